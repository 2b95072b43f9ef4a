/**
 * Where a person reads their DMs: NIP-17 says to send to the recipient's
 * kind 10050 relays. Looked up on the relays the bridge knows (its own inbox
 * relays), the newest list signed by the person's key wins; cached, bounded
 * in entries, relays per person and time, including "has none" (for a
 * shorter while). Only ws:// and wss:// URLs are taken, at most
 * MAX_RELAYS of them.
 */
import type { AbstractSimplePool } from "nostr-tools/abstract-pool";
import type { NostrEvent } from "nostr-tools/pure";

const MAX_PEOPLE = 1_000;
const MAX_RELAYS = 3;
const FOUND_TTL_MS = 10 * 60_000;
const NONE_TTL_MS = 60_000;
const LOOKUP_MS = 3_000;
const URL = /^wss?:\/\/[^\s]{1,250}$/;

/** The relays a kind 10050 event lists (valid URLs only, at most MAX_RELAYS); empty if none. */
export function relaysOf(event: NostrEvent): string[] {
  const urls = event.tags.filter((t) => t[0] === "relay" && typeof t[1] === "string" && URL.test(t[1]))
    .map((t) => t[1]);
  return [...new Set(urls)].slice(0, MAX_RELAYS);
}

export class PersonRelays {
  readonly #pool: AbstractSimplePool;
  readonly #known: string[];
  readonly #now: () => number;
  readonly #cache = new Map<string, { relays: string[]; until: number }>();

  constructor(pool: AbstractSimplePool, known: string[], now: () => number = Date.now) {
    this.#pool = pool;
    this.#known = known;
    this.#now = now;
  }

  /** `pubkey`'s inbox relays, or an empty list when it published none the bridge can find. */
  async of(pubkey: string): Promise<string[]> {
    const now = this.#now();
    const hit = this.#cache.get(pubkey);
    if (hit && hit.until > now) return hit.relays;
    const events = await this.#pool.querySync(this.#known, { kinds: [10050], authors: [pubkey] }, {
      maxWait: LOOKUP_MS,
    });
    const newest = events.filter((e) => e.pubkey === pubkey && e.kind === 10050)
      .sort((a, b) => b.created_at - a.created_at)[0];
    const relays = newest ? relaysOf(newest) : [];
    this.#cache.delete(pubkey);
    this.#cache.set(pubkey, { relays, until: now + (relays.length ? FOUND_TTL_MS : NONE_TTL_MS) });
    if (this.#cache.size > MAX_PEOPLE) this.#cache.delete(this.#cache.keys().next().value as string);
    return relays;
  }
}
