/**
 * An automerge-repo StorageAdapter that keeps everything in memory: for
 * tests, short-lived relays and ephemeral tabs. Keys are string arrays;
 * ranges are key prefixes.
 */
import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";

const SEP = "\u0000";

export class MemoryStorageAdapter implements StorageAdapterInterface {
  readonly #data = new Map<string, Uint8Array>();

  load(key: StorageKey): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#data.get(key.join(SEP)));
  }

  save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(key.join(SEP), data.slice());
    return Promise.resolve();
  }

  remove(key: StorageKey): Promise<void> {
    this.#data.delete(key.join(SEP));
    return Promise.resolve();
  }

  loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const p = prefix.join(SEP);
    const out: Chunk[] = [];
    for (const [k, data] of this.#data) {
      if (k === p || k.startsWith(p + SEP) || p === "") out.push({ key: k.split(SEP), data });
    }
    return Promise.resolve(out);
  }

  removeRange(prefix: StorageKey): Promise<void> {
    const p = prefix.join(SEP);
    for (const k of [...this.#data.keys()]) if (k === p || k.startsWith(p + SEP) || p === "") this.#data.delete(k);
    return Promise.resolve();
  }

  get size(): number {
    return this.#data.size;
  }
}
