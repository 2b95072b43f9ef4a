/**
 * The storage as a node's Repo sees it. automerge-repo keeps a throttled
 * sync-state save running past shutdown; sync state is a cache, so once
 * the node has stopped such late saves are dropped instead of hitting
 * storage the shell may already have closed. Writes in flight are tracked
 * so stopping can let them land first.
 */
import type { StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";

export class RepoStorage implements StorageAdapterInterface {
  readonly #storage: StorageAdapterInterface;
  readonly #stopped: () => boolean;
  /** Storage writes automerge-repo has started and not finished (compaction runs after flushes). */
  readonly #ops = new Set<Promise<unknown>>();

  constructor(storage: StorageAdapterInterface, stopped: () => boolean) {
    this.#storage = storage;
    this.#stopped = stopped;
  }

  load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.#storage.load(key);
  }

  save(key: StorageKey, data: Uint8Array): Promise<void> {
    return this.#stopped() && key[1] === "sync-state" ? Promise.resolve() : this.#track(this.#storage.save(key, data));
  }

  remove(key: StorageKey): Promise<void> {
    return this.#track(this.#storage.remove(key));
  }

  loadRange(prefix: StorageKey): ReturnType<StorageAdapterInterface["loadRange"]> {
    return this.#storage.loadRange(prefix);
  }

  removeRange(prefix: StorageKey): Promise<void> {
    return this.#track(this.#storage.removeRange(prefix));
  }

  /** Let the writes still in flight land (they may start more: compaction after a flush). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10 && this.#ops.size > 0; i++) await Promise.allSettled([...this.#ops]);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#ops.add(p);
    const done = () => this.#ops.delete(p);
    p.then(done, done);
    return p;
  }
}
