/**
 * An automerge-repo StorageAdapter over a small key-value interface, for
 * platforms whose storage is a KV store with limits on value size and on
 * what one atomic write may hold (Deno KV: 64 KiB values; Cloudflare
 * Durable Objects: 128 KiB). A value too large for one entry is written as
 * numbered parts under a fresh version first, and only then does its header
 * switch to that version, in one small atomic write — so a reader sees the
 * old value or the new one, never a mix, even if the writer dies midway.
 * Parts of superseded versions are deleted afterwards (and on the next
 * write of the key, should a crash have left any behind).
 */
import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";

/** What a platform's KV store must offer. `commit` applies its puts and deletes atomically. */
export interface KvStore {
  get(key: string[]): Promise<Uint8Array | undefined>;
  list(prefix: string[]): AsyncIterable<{ key: string[]; value: Uint8Array }>;
  commit(puts: Array<{ key: string[]; value: Uint8Array }>, deletes: string[][]): Promise<void>;
  /** Largest value the store accepts, in bytes. */
  maxValueBytes: number;
  /** Most entries one commit may hold. */
  maxBatch: number;
}

/** Marks the part keys under a value's key; not a segment automerge-repo uses. */
const PART = "\u0000part";
const INLINE = 0x00;
const MULTIPART = 0xff;

export class KvStorageAdapter implements StorageAdapterInterface {
  readonly #kv: KvStore;

  constructor(kv: KvStore) {
    this.#kv = kv;
  }

  async #partKeys(key: string[]): Promise<string[][]> {
    const out: string[][] = [];
    for await (const e of this.#kv.list([...key, PART])) out.push(e.key);
    return out;
  }

  async #deleteInBatches(keys: string[][]): Promise<void> {
    for (let i = 0; i < keys.length; i += this.#kv.maxBatch) {
      await this.#kv.commit([], keys.slice(i, i + this.#kv.maxBatch));
    }
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const head = await this.#kv.get(key);
    if (!head) return undefined;
    if (head[0] === INLINE) return head.subarray(1);
    const n = new DataView(head.buffer, head.byteOffset + 1, 4).getUint32(0);
    const version = new TextDecoder().decode(head.subarray(5));
    const parts: Uint8Array[] = [];
    let size = 0;
    for (let i = 0; i < n; i++) {
      const p = await this.#kv.get([...key, PART, version, String(i).padStart(6, "0")]);
      if (!p) throw new Error(`storage: part ${i} of ${key.join("/")} is missing`);
      parts.push(p);
      size += p.length;
    }
    const out = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    const old = await this.#partKeys(key);
    if (data.length < this.#kv.maxValueBytes) {
      const v = new Uint8Array(data.length + 1);
      v[0] = INLINE;
      v.set(data, 1);
      await this.#kv.commit([{ key, value: v }], []);
    } else {
      const version = crypto.randomUUID();
      const step = this.#kv.maxValueBytes;
      const parts: Array<{ key: string[]; value: Uint8Array }> = [];
      for (let i = 0, o = 0; o < data.length; i++, o += step) {
        parts.push({ key: [...key, PART, version, String(i).padStart(6, "0")], value: data.slice(o, o + step) });
      }
      for (let i = 0; i < parts.length; i += this.#kv.maxBatch) {
        await this.#kv.commit(parts.slice(i, i + this.#kv.maxBatch), []);
      }
      const v = new TextEncoder().encode(version);
      const head = new Uint8Array(5 + v.length);
      head[0] = MULTIPART;
      new DataView(head.buffer).setUint32(1, parts.length);
      head.set(v, 5);
      await this.#kv.commit([{ key, value: head }], []);
    }
    await this.#deleteInBatches(old);
  }

  async remove(key: StorageKey): Promise<void> {
    await this.#kv.commit([], [key]);
    await this.#deleteInBatches(await this.#partKeys(key));
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const out: Chunk[] = [];
    for await (const e of this.#kv.list(prefix)) {
      if (e.key.includes(PART)) continue;
      const data = await this.load(e.key);
      if (data) out.push({ key: e.key, data });
    }
    return out;
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    const keys: string[][] = [];
    for await (const e of this.#kv.list(prefix)) keys.push(e.key);
    await this.#deleteInBatches(keys);
  }
}

/** A KvStore in memory, with the given limits (for tests, and as the reference). */
export function memoryKv(maxValueBytes = 64 * 1024, maxBatch = 10): KvStore & { readonly size: number } {
  const map = new Map<string, { key: string[]; value: Uint8Array }>();
  const k = (key: string[]) => key.join("\u0001");
  return {
    maxValueBytes,
    maxBatch,
    get size() {
      return map.size;
    },
    get: (key) => Promise.resolve(map.get(k(key))?.value),
    async *list(prefix) {
      const p = k(prefix);
      for (const [key, e] of [...map].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (prefix.length === 0 || key === p || key.startsWith(p + "\u0001")) yield e;
      }
    },
    commit(puts, deletes) {
      if (puts.length + deletes.length > maxBatch) return Promise.reject(new Error("batch too large"));
      if (puts.some((p) => p.value.length > maxValueBytes)) return Promise.reject(new Error("value too large"));
      for (const d of deletes) map.delete(k(d));
      for (const p of puts) map.set(k(p.key), { key: p.key, value: p.value.slice() });
      return Promise.resolve();
    },
  };
}
