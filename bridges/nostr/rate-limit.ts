/**
 * Per-sender rate limits, applied after a DM is unwrapped (only then is the
 * sender known) and before it can cause any action, answer or model call:
 * a token bucket per Nostr key, `burst` messages at once and `perMinute`
 * refilled. The table is bounded; past `maxSenders` the longest-idle sender
 * is forgotten (it starts again with a full bucket).
 */
export class SenderRateLimit {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxSenders: number;
  readonly #now: () => number;

  constructor(options: { burst: number; perMinute: number; maxSenders?: number; now?: () => number }) {
    this.#burst = options.burst;
    this.#perMs = options.perMinute / 60_000;
    this.#maxSenders = options.maxSenders ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Take one message's token for `sender`; false when it is over its rate. */
  take(sender: string): boolean {
    const now = this.#now();
    const b = this.#buckets.get(sender) ?? { tokens: this.#burst, at: now };
    this.#buckets.delete(sender); // re-inserted last: the Map's order is idleness
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.#buckets.set(sender, b);
    if (this.#buckets.size > this.#maxSenders) this.#buckets.delete(this.#buckets.keys().next().value!);
    return ok;
  }
}
