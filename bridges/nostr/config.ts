/**
 * The `[bridges.nostr]` table: the inbox relays it listens on and publishes
 * as its kind 10050, its profile name, how large an event may be, the
 * per-sender rate, how long a pairing code works, how long an approval
 * given by DM lasts, the daily budget of the model calls free text
 * causes, and how many notifications a person is sent at once and per hour. Each wrong value is refused naming its key.
 */
import { InvalidInput } from "#protocol/schema";

export interface NostrConfig {
  relays: string[];
  name: string;
  maxEventBytes: number;
  rateBurst: number;
  ratePerMinute: number;
  pairTtlS: number;
  /** How long an approval given by DM lets an agent's step through. */
  approvalTtlS: number;
  /** Model calls each paired person's free text may cause per UTC day (0: free text gets the help). */
  modelCallsPerDay: number;
  /** What all DM-caused model calls may cost per UTC day, in micro-USD. */
  modelMicroUsdPerDay: number;
  /** Notifications a person is sent at once, and per hour after (more are coalesced into one DM). */
  notifyBurst: number;
  notifyPerHour: number;
}

const KEYS = [
  "relays",
  "name",
  "max_event_bytes",
  "rate_burst",
  "rate_per_minute",
  "pair_ttl_s",
  "approval_ttl_s",
  "model_calls_per_day",
  "model_micro_usd_per_day",
  "notify_burst",
  "notify_per_hour",
];

function int(table: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = table[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidInput(key, `must be a whole number from ${min} to ${max}`);
  }
  return v;
}

export function readNostrConfig(table: Record<string, unknown>): NostrConfig {
  for (const key of Object.keys(table)) {
    if (!KEYS.includes(key)) {
      throw new InvalidInput(key, `is not a setting of the nostr bridge (it has: ${KEYS.join(", ")})`);
    }
  }
  const { relays, name = "weft" } = table;
  if (
    !Array.isArray(relays) || relays.length === 0 || relays.length > 8 ||
    !relays.every((r) => typeof r === "string" && /^wss?:\/\/[^\s]{1,250}$/.test(r))
  ) {
    throw new InvalidInput("relays", 'must list 1 to 8 relay URLs (ws:// or wss://), e.g. ["wss://relay.example"]');
  }
  if (typeof name !== "string" || !/^[^\n]{1,64}$/.test(name)) {
    throw new InvalidInput("name", "must be 1 to 64 characters on one line");
  }
  return {
    relays: relays as string[],
    name,
    maxEventBytes: int(table, "max_event_bytes", 16_384, 1_024, 87_472),
    rateBurst: int(table, "rate_burst", 5, 1, 1_000),
    ratePerMinute: int(table, "rate_per_minute", 20, 1, 10_000),
    pairTtlS: int(table, "pair_ttl_s", 600, 30, 86_400),
    approvalTtlS: int(table, "approval_ttl_s", 3_600, 60, 30 * 86_400),
    modelCallsPerDay: int(table, "model_calls_per_day", 20, 0, 10_000),
    modelMicroUsdPerDay: int(table, "model_micro_usd_per_day", 1_000_000, 1, 1_000_000_000),
    notifyBurst: int(table, "notify_burst", 5, 1, 1_000),
    notifyPerHour: int(table, "notify_per_hour", 30, 1, 3_600),
  };
}
