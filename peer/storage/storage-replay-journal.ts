/**
 * Used single-use bearers kept in an automerge-repo storage adapter, beside
 * the documents it holds, so a relay refuses a used sync token after a
 * restart on every platform it runs on (the durable log on Node, Deno KV,
 * a Durable Object's storage) without a file of its own. One entry per
 * bearer under `["weft-replays", cid]`, its value the expiry second as
 * text; an add resolves once the adapter has saved it. No document id or
 * automerge-repo key starts with that segment.
 */
import type { StorageAdapterInterface } from "@automerge/automerge-repo";
import type { ReplayJournal } from "../api/auth.ts";

const PREFIX = "weft-replays";
const EXPIRY = /^\d{1,12}$/;
const text = new TextDecoder();
const bytes = new TextEncoder();

export class StorageReplayJournal implements ReplayJournal {
  readonly #storage: StorageAdapterInterface;
  #pruning: Promise<void> = Promise.resolve();

  private constructor(storage: StorageAdapterInterface) {
    this.#storage = storage;
  }

  /** The journal in `storage`, and the bearers still live at `now` (seconds); expired ones are removed. */
  static async open(
    storage: StorageAdapterInterface,
    now: number,
  ): Promise<{ journal: StorageReplayJournal; seen: Map<string, number> }> {
    const journal = new StorageReplayJournal(storage);
    const seen = new Map<string, number>();
    for (const { key, exp } of await journal.#entries()) {
      if (exp >= now) seen.set(key, exp);
    }
    await journal.#removeExpired(now);
    return { journal, seen };
  }

  async #entries(): Promise<Array<{ key: string; exp: number }>> {
    const out: Array<{ key: string; exp: number }> = [];
    for (const chunk of await this.#storage.loadRange([PREFIX])) {
      const value = chunk.data ? text.decode(chunk.data) : "";
      // An entry that does not parse holds no bearer anyone was answered for: it is dropped.
      out.push({ key: chunk.key[1] ?? "", exp: EXPIRY.test(value) ? Number(value) : -1 });
    }
    return out;
  }

  async #removeExpired(now: number): Promise<void> {
    for (const { key, exp } of await this.#entries()) {
      if (exp < now) await this.#storage.remove([PREFIX, key]);
    }
  }

  add(cid: string, exp: number): Promise<void> {
    return this.#storage.save([PREFIX, cid], bytes.encode(String(exp)));
  }

  /** Entries not in `live` are expired ones (every add is live when made): remove those. */
  rewrite(_live: ReadonlyMap<string, number>): void {
    const now = Math.floor(Date.now() / 1000);
    // One pruning at a time; a failed one leaves the store only larger.
    this.#pruning = this.#pruning.then(() => this.#removeExpired(now)).catch(() => {});
  }
}
