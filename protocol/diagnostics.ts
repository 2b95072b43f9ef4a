/**
 * What a node refused and why: counters for metrics, and a bounded log of
 * recent refusals (who sent what, why it was refused) for the diagnostics
 * view. Nothing refused is applied; this is how it stays visible.
 */
export type RefusalKind = "op" | "sync" | "gossip" | "api";

export interface Refusal {
  kind: RefusalKind;
  /** Who sent it: a DID or PeerId, when known. */
  from?: string;
  /** What it was: an operation CID, a message type, a topic. */
  what: string;
  /** Machine-readable reason, e.g. "ucan/revoked" or "sync/not-a-member". */
  code: string;
  /** Human-readable reason. */
  reason: string;
  space?: string;
  /** Unix ms when it was refused. */
  at: number;
}

export class Diagnostics {
  readonly #counters = new Map<string, number>();
  readonly #recent: Refusal[] = [];
  readonly #limit: number;
  readonly #listeners = new Set<(r: Refusal) => void>();

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  count(name: string, n = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + n);
  }

  refuse(refusal: Omit<Refusal, "at"> & { at?: number }): void {
    const r: Refusal = { ...refusal, at: refusal.at ?? Date.now() };
    this.count(`refused.${r.kind}`);
    this.count(`refused.${r.kind}.${r.code}`);
    this.#recent.push(r);
    if (this.#recent.length > this.#limit) this.#recent.splice(0, this.#recent.length - this.#limit);
    for (const l of this.#listeners) l(r);
  }

  /** Recent refusals, newest last, optionally for one kind or space. */
  refusals(filter: { kind?: RefusalKind; space?: string } = {}): Refusal[] {
    return this.#recent.filter((r) =>
      (filter.kind === undefined || r.kind === filter.kind) && (filter.space === undefined || r.space === filter.space)
    );
  }

  counter(name: string): number {
    return this.#counters.get(name) ?? 0;
  }

  counters(): Record<string, number> {
    return Object.fromEntries([...this.#counters].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  onRefusal(listener: (r: Refusal) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
