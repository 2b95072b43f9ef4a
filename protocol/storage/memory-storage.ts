/**
 * An automerge-repo StorageAdapter that keeps everything in memory: for
 * tests, short-lived relays and ephemeral tabs.
 */
import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import { KeyIndex } from "./key-index.ts";

export class MemoryStorageAdapter implements StorageAdapterInterface {
  readonly #data = new KeyIndex();

  load(key: StorageKey): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#data.get(key));
  }

  save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(key, data.slice());
    return Promise.resolve();
  }

  remove(key: StorageKey): Promise<void> {
    this.#data.delete(key);
    return Promise.resolve();
  }

  loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return Promise.resolve([...this.#data.range(prefix)]);
  }

  removeRange(prefix: StorageKey): Promise<void> {
    for (const c of [...this.#data.range(prefix)]) this.#data.delete(c.key);
    return Promise.resolve();
  }

  get size(): number {
    return this.#data.size;
  }
}
