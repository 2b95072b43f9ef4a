/**
 * Deno KV (local SQLite, or Deno Deploy's replicated store) as a KvStore
 * for the relay's documents. Deno-only: it touches `Deno.openKv`.
 */
import type { KvStore } from "#protocol/storage";

interface DenoKv {
  get(key: string[]): Promise<{ value: unknown }>;
  list(selector: { prefix: string[] }): AsyncIterable<{ key: unknown[]; value: unknown }>;
  atomic(): {
    set(key: string[], value: unknown): unknown;
    delete(key: string[]): unknown;
    commit(): Promise<{ ok: boolean }>;
  };
}

export async function openDenoKv(path?: string): Promise<KvStore> {
  const Deno = (globalThis as unknown as { Deno: { openKv(path?: string): Promise<DenoKv> } }).Deno;
  const kv = await Deno.openKv(path);
  return {
    maxValueBytes: 60 * 1024, // Deno KV takes 64 KiB values
    maxBatch: 10, // and at most ~800 KiB per atomic write
    async get(key) {
      const { value } = await kv.get(key);
      return value instanceof Uint8Array ? value : undefined;
    },
    async *list(prefix) {
      for await (const e of kv.list({ prefix })) {
        if (e.value instanceof Uint8Array) yield { key: e.key as string[], value: e.value };
      }
    },
    async commit(puts, deletes) {
      const op = kv.atomic();
      for (const d of deletes) op.delete(d);
      for (const p of puts) op.set(p.key, p.value);
      const { ok } = await op.commit();
      if (!ok) throw new Error("Deno KV refused the write");
    },
  };
}
