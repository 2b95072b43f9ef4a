/**
 * Headless peers keep every run's manifest: whenever a task in one of this
 * node's spaces records a result with a manifest CID, the manifest is
 * fetched from whichever connected peer has it, verified (signature,
 * statement, the runner's capability) and pinned. Fetches that fail (no
 * peer has it yet) are retried on the next sweep; manifests that fail
 * verification are refused once, with the reason in the node's diagnostics.
 */
import type { Space } from "#protocol/space";
import { isWeftError, messageOf } from "#protocol";
import type { ArtifactService } from "./service.ts";

export interface PinnerOptions {
  /** How often to sweep every space for manifests not kept yet (default 30 s). */
  intervalMs?: number;
  /** How long one fetch may wait for peers (default 15 s). */
  fetchMs?: number;
}

export class ManifestPinner {
  readonly #artifacts: ArtifactService;
  readonly #intervalMs: number;
  readonly #fetchMs: number;
  readonly #kept = new Set<string>();
  readonly #refused = new Set<string>();
  readonly #busy = new Set<string>();
  readonly #watching = new Map<string, () => void>();
  #timer?: ReturnType<typeof setInterval>;
  #stopped = false;

  constructor(artifacts: ArtifactService, options: PinnerOptions = {}) {
    this.#artifacts = artifacts;
    this.#intervalMs = options.intervalMs ?? 30_000;
    this.#fetchMs = options.fetchMs ?? 15_000;
  }

  async start(): Promise<void> {
    for (const p of await this.#artifacts.manifests.pins()) this.#kept.add(p.cid);
    this.#timer = setInterval(() => void this.sweep(), this.#intervalMs);
    void this.sweep();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const unsubscribe of this.#watching.values()) unsubscribe();
    this.#watching.clear();
  }

  /** Keep every manifest the node's spaces record; resolves when this sweep's fetches end. */
  async sweep(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const space of this.#artifacts.node.spaces()) {
      if (!this.#watching.has(space.id)) {
        this.#watching.set(
          space.id,
          space.subscribe((e) => {
            if (e.type === "tasks") void this.#keepTasks(space, e.tasks);
          }),
        );
      }
      work.push(this.#keepTasks(space, space.tasks().map((t) => t.id)));
    }
    await Promise.all(work);
  }

  async #keepTasks(space: Space, ids: readonly string[]): Promise<void> {
    const work: Promise<void>[] = [];
    for (const id of ids) {
      for (const r of space.task(id)?.results ?? []) {
        if (r.manifest && !this.#kept.has(r.manifest) && !this.#refused.has(r.manifest)) {
          work.push(this.#keep(space, r.manifest));
        }
      }
    }
    await Promise.all(work);
  }

  async #keep(space: Space, cid: string): Promise<void> {
    if (this.#busy.has(cid) || this.#stopped) return;
    this.#busy.add(cid);
    try {
      await this.#artifacts.manifest(space.id, cid, AbortSignal.timeout(this.#fetchMs));
      this.#kept.add(cid);
    } catch (e) {
      if (isWeftError(e, "not-found")) return; // no connected peer has it yet: next sweep
      this.#refused.add(cid);
      this.#artifacts.node.diagnostics.refuse({
        kind: "sync",
        what: `manifest ${cid}`,
        code: isWeftError(e) ? e.code : "artifact/failed",
        reason: messageOf(e),
        space: space.id,
      });
    } finally {
      this.#busy.delete(cid);
    }
  }

  /** Manifests this node keeps. */
  get kept(): ReadonlySet<string> {
    return this.#kept;
  }
}
