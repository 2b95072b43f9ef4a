/**
 * Capacity adverts: what a node offers to run, gossiped on each space's
 * capacity topic as a signed invocation of /weft/capacity/advertise with a
 * short expiry (its TTL). Nodes that stop advertising drop out of every
 * view when their last advert expires.
 */
import { bool, check, int, InvalidInput, list, num, object, optional, required, str } from "../schema/input-checks.ts";
import { isDidKey } from "../identity/did-key.ts";

export const MAX_ADVERT_TTL_SECONDS = 600;

const RUNNER_KIND = /^[a-z0-9-]{1,32}$/;
const DETAIL_KEY = /^[a-z][A-Za-z0-9_-]{0,31}$/;

/** One runner's details: at most 16 keys, each a short string, a finite number or a boolean. */
const detailsOfRunner = check((v, field): Record<string, string | number | boolean> => {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new InvalidInput(field, "must be a map");
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 16) throw new InvalidInput(field, "must have at most 16 keys");
  for (const [k, x] of entries) {
    if (!DETAIL_KEY.test(k)) throw new InvalidInput(`${field}.${k}`, `must be a key matching ${DETAIL_KEY}`);
    const ok = typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x)) ||
      (typeof x === "string" && x.length <= 128);
    if (!ok) {
      throw new InvalidInput(`${field}.${k}`, "must be a string of at most 128 characters, a number or a boolean");
    }
  }
  return Object.fromEntries(entries) as Record<string, string | number | boolean>;
}, { type: "object", maxProperties: 16 });

/** What each runner advertises beside its kind (ManagedRunner.advertise()), by kind; at most 16 kinds. */
const runnerDetails = check((v, field): Record<string, Record<string, string | number | boolean>> => {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new InvalidInput(field, "must be a map");
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 16) throw new InvalidInput(field, "must have at most 16 runner kinds");
  return Object.fromEntries(entries.map(([kind, d]) => {
    if (!RUNNER_KIND.test(kind)) {
      throw new InvalidInput(`${field}.${kind}`, `must be a runner kind matching ${RUNNER_KIND}`);
    }
    return [kind, detailsOfRunner(d, `${field}.${kind}`)];
  }));
}, { type: "object", maxProperties: 16, additionalProperties: detailsOfRunner.json });

export const advertShape = object({
  cpu: required(object({ cores: required(int(0, 4096)), load: required(num(0, 10_000)) })),
  memoryMb: required(object({ total: required(int(0, 2 ** 40)), free: required(int(0, 2 ** 40)) })),
  gpus: required(int(0, 1024)),
  runners: required(list(str(1, 32, /^[a-z0-9-]+$/), 16)),
  /** Each runner's own details (e.g. `{ nix: { system: "x86_64-linux" } }`); absent when none say anything. */
  runnerDetails: optional(runnerDetails),
  tags: required(list(str(1, 128, /^[^\s]+$/), 64)),
  version: required(str(1, 64)),
  /** Jobs running now, and how many more this node will take. */
  running: required(int(0, 1_000_000)),
  slots: required(int(0, 1_000_000)),
  /** Browser tabs and other nodes that may vanish any moment. */
  ephemeral: optional(bool),
  ttl: required(int(1, MAX_ADVERT_TTL_SECONDS)),
  /**
   * For a principal hosted on a node (a bridge's cluster), that node: where
   * members read the logs of the runs it holds. Signed by the principal; a
   * wrong one only sends a member's log request to a node that has no such run.
   */
  host: optional(check((v, field): string => {
    if (!isDidKey(v)) throw new InvalidInput(field, "must be a did:key");
    return v;
  }, { type: "string", pattern: "^did:key:z" })),
});

export type CapacityAdvert = ReturnType<typeof advertShape>;

/** An advert as received: who sent it, when it expires. */
export interface LiveAdvert extends CapacityAdvert {
  node: string;
  /** Unix ms when the advert was made and when it lapses. */
  at: number;
  expires: number;
}
