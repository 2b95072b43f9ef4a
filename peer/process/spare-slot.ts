/**
 * The one spare a runner keeps ready: the next run's first process, held
 * (held-process.ts) in cgroups of its own, made while no run waits for it,
 * so the spawn and the cgroup moves leave the path to a run's first line.
 * The bubblewrap and Nix runners each keep one. A spare is taken before
 * the wait, so two runs starting together never share one; one that died
 * or cannot be readied is thrown away and the run makes its own process.
 */

/** What a spare holds: its process and its groups. */
export interface Spare {
  held: { readonly exited: boolean; kill(): void };
  cgroup: { destroy(): Promise<void> };
}

export class SpareSlot<S extends Spare> {
  readonly #make: () => Promise<S | undefined>;
  #spare?: Promise<S | undefined>;
  #closed = false;

  /** `make`: a new spare, or undefined (or a rejection) when none can be made now. */
  constructor(make: () => Promise<S | undefined>) {
    this.#make = make;
  }

  /** The spare, if one is ready and alive and `ready` (the run's limits, its names) takes; for one run. */
  async take(ready: (spare: S) => Promise<void>): Promise<S | undefined> {
    const taken = this.#spare;
    this.#spare = undefined;
    const spare = await taken;
    if (!spare) return undefined;
    try {
      if (spare.held.exited) throw new Error("the spare's process is gone");
      await ready(spare);
      return spare;
    } catch {
      spare.held.kill();
      await spare.cgroup.destroy().catch(() => {});
      return undefined;
    }
  }

  /** Make the next spare unless one is there (or the slot is closed); one that fails is simply not there. */
  replenish(): void {
    if (this.#spare || this.#closed) return;
    this.#spare = this.#make().catch(() => undefined);
  }

  /** Make no more, and kill the spare there is. */
  async close(): Promise<void> {
    this.#closed = true;
    const spare = await this.#spare;
    this.#spare = undefined;
    spare?.held.kill();
    await spare?.cgroup.destroy();
  }
}
