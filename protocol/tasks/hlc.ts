/**
 * Hybrid logical clock (Kulkarni et al.): timestamps that follow wall time
 * but never go backwards and always exceed every timestamp observed from
 * others, so an operation made after seeing another sorts after it.
 * A timestamp is `[milliseconds, counter]`; ties between authors break on
 * the operation's CID.
 */
export type Hlc = readonly [ms: number, counter: number];

export function compareHlc(a: Hlc, b: Hlc): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function isHlc(v: unknown): v is Hlc {
  return Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && v[0] >= 0 &&
    Number.isSafeInteger(v[1]) && v[1] >= 0 && v[1] < 2 ** 31;
}

export class HybridClock {
  #last: Hlc = [0, 0];
  readonly #wall: () => number;

  constructor(wall: () => number = Date.now) {
    this.#wall = wall;
  }

  /** A timestamp greater than every one issued or observed so far. */
  now(): Hlc {
    const wall = this.#wall();
    const [ms, c] = this.#last;
    this.#last = wall > ms ? [wall, 0] : [ms, c + 1];
    return this.#last;
  }

  /** Take a remote timestamp into account (call for every operation received). */
  observe(remote: Hlc): void {
    if (compareHlc(remote, this.#last) > 0) this.#last = remote;
  }

  get last(): Hlc {
    return this.#last;
  }
}
