/**
 * Listening for gift wraps on the bridge's inbox relays, one subscription per
 * relay, kept alive by the bridge itself. nostr-tools alone loses DMs two
 * ways, both seen in CI: a relay not reached within its connection timeout
 * (a busy process stalls 3 s; a relay down at start) closes the subscription
 * for good, and its own reconnect asks only for events newer than the newest
 * it saw, which for gift wraps (dated up to two days early by NIP-59) skips
 * the ones sent during the gap. So every (re)subscription asks for the whole
 * look-back again, a closed one is reopened with backoff, and wraps already
 * handled are skipped by id before they are unwrapped again.
 *
 * A third way was the relay's: @nostr-relay/core answers a REQ whose filter
 * it saw in the last second from a cache of that earlier answer, so a bridge
 * restarted (or a subscription reopened) within the second its last one was
 * made got the old, empty answer and missed what arrived in between. Each
 * subscription's `since` is one no other subscription of this process used
 * in the last ten seconds (and starts at a random offset, so a restarted
 * process's differ too): its filter is new to the relay.
 *
 * A relay answers a request with at most so many stored events (100 for
 * @nostr-relay/core, newest first), and three days of gift wraps may be
 * more. So once a subscription has caught up, the inbox pages back: it asks
 * again with `until` at the oldest wrap it got, until a page brings nothing
 * new, and none stored in the look-back is left unread.
 */
import type { AbstractSimplePool } from "nostr-tools/abstract-pool";
import type { NostrEvent } from "nostr-tools/pure";
import { normalizeURL } from "nostr-tools/utils";

/** How far back a (re)subscription asks for gift wraps: NIP-59 dates them up to two days early. */
export const LOOKBACK_S = 3 * 24 * 3600;
/** Added to the look-back, at random per process: a restarted bridge's filters are not its predecessor's. */
const BASE_OFFSET_S = Math.floor(Math.random() * 3_600);
/** `since` values given out in the last ten seconds (value → when), module-wide: every bridge in the process. */
const recentSince = new Map<number, number>();

/** A `since` for a subscription made at `nowMs`, the whole look-back back, used by no recent subscription. */
function freshSince(nowMs: number): number {
  for (const [value, at] of recentSince) if (nowMs - at > 10_000) recentSince.delete(value);
  let since = Math.floor(nowMs / 1000) - LOOKBACK_S - BASE_OFFSET_S;
  while (recentSince.has(since)) since--;
  recentSince.set(since, nowMs);
  return since;
}

/** Pages asked for at most per (re)subscription: 200 pages of a relay's usual 100 wraps. */
const MAX_PAGES = 200;
/** How long a page may take to come back. */
const PAGE_WAIT_MS = 10_000;

/** Waits before reopening a closed subscription; the last repeats. */
const BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000];

export interface InboxOptions {
  pool: AbstractSimplePool;
  relays: string[];
  /** The bridge's pubkey: wraps tagged `p` with it. */
  pubkey: string;
  onWrap: (wrap: NostrEvent) => void;
  log: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void };
  now?: () => number;
}

export class Inbox {
  readonly #o: InboxOptions;
  readonly #subs = new Map<string, { close(reason?: string): void }>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(options: InboxOptions) {
    this.#o = options;
  }

  /** Subscribe on every relay; resolves at once (each relay catches up on its own). */
  open(): void {
    for (const relay of this.#o.relays) this.#subscribe(relay, 0);
  }

  #subscribe(relay: string, attempt: number): void {
    if (this.#closed) return;
    const since = freshSince((this.#o.now ?? Date.now)());
    let caughtUp = false;
    /** What the relay sent before it said it had sent all it had stored: where paging starts. */
    const stored = new Set<string>();
    let oldest = Infinity;
    const sub = this.#o.pool.subscribeMany(
      [relay],
      { kinds: [1059], "#p": [this.#o.pubkey], since },
      {
        onevent: (e) => {
          if (!caughtUp) {
            stored.add(e.id);
            oldest = Math.min(oldest, e.created_at);
          }
          this.#o.onWrap(e);
        },
        oneose: () => {
          // nostr-tools also calls this when the connection fails: only a connected relay has caught up.
          if (!this.#o.pool.listConnectionStatus().get(normalizeURL(relay))) return;
          caughtUp = true;
          if (attempt > 0) this.#o.log.info("nostr inbox relay back", { relay });
          if (stored.size > 0) void this.#pageBack(relay, since, oldest, stored);
        },
        onclose: (reasons) => {
          if (this.#closed) return;
          // A subscription that had caught up starts its backoff over; one that never did backs off further.
          const next = caughtUp ? 0 : attempt + 1;
          const wait = BACKOFF_MS[Math.min(next, BACKOFF_MS.length - 1)];
          this.#o.log.warn("nostr inbox relay lost; subscribing again", {
            relay,
            reason: reasons.map((r) => r.reason).join("; "),
            retryMs: wait,
          });
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            this.#subscribe(relay, next);
          }, wait);
          this.#timers.add(timer);
        },
      },
    );
    this.#subs.set(relay, sub);
  }

  /**
   * Ask `relay` for the wraps dated from `since` to `until` (inclusive: more
   * may share the oldest second), again and again with `until` at the oldest
   * new one, until a page brings none not in `got`.
   */
  async #pageBack(relay: string, since: number, until: number, got: Set<string>): Promise<void> {
    for (let page = 0; page < MAX_PAGES; page++) {
      if (this.#closed) return;
      let events: NostrEvent[];
      try {
        events = await this.#o.pool.querySync([relay], { kinds: [1059], "#p": [this.#o.pubkey], since, until }, {
          maxWait: PAGE_WAIT_MS,
        });
      } catch (e) {
        // The live subscription reopens on a lost relay, and pages back again from its start.
        this.#o.log.warn("nostr inbox could not page back", { relay, error: (e as Error).message });
        return;
      }
      const fresh = events.filter((e) => !got.has(e.id));
      if (fresh.length === 0 || this.#closed) return;
      for (const e of fresh) {
        got.add(e.id);
        until = Math.min(until, e.created_at);
        this.#o.onWrap(e);
      }
    }
    this.#o.log.warn("nostr inbox stopped paging back: more wraps stored than it reads at once", {
      relay,
      pages: MAX_PAGES,
    });
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const sub of this.#subs.values()) sub.close("the bridge is closing");
    this.#subs.clear();
  }
}
