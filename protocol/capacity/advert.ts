/**
 * Capacity adverts: what a node offers to run, gossiped on each space's
 * capacity topic as a signed invocation of /weft/capacity/advertise with a
 * short expiry (its TTL). Nodes that stop advertising drop out of every
 * view when their last advert expires.
 */
import { bool, int, list, num, object, optional, required, str } from "../schema/input-checks.ts";

export const MAX_ADVERT_TTL_SECONDS = 600;

export const advertShape = object({
  cpu: required(object({ cores: required(int(0, 4096)), load: required(num(0, 10_000)) })),
  memoryMb: required(object({ total: required(int(0, 2 ** 40)), free: required(int(0, 2 ** 40)) })),
  gpus: required(int(0, 1024)),
  runners: required(list(str(1, 32, /^[a-z0-9-]+$/), 16)),
  tags: required(list(str(1, 128, /^[^\s]+$/), 64)),
  version: required(str(1, 64)),
  /** Jobs running now, and how many more this node will take. */
  running: required(int(0, 1_000_000)),
  slots: required(int(0, 1_000_000)),
  /** Browser tabs and other nodes that may vanish any moment. */
  ephemeral: optional(bool),
  ttl: required(int(1, MAX_ADVERT_TTL_SECONDS)),
});

export type CapacityAdvert = ReturnType<typeof advertShape>;

/** An advert as received: who sent it, when it expires. */
export interface LiveAdvert extends CapacityAdvert {
  node: string;
  /** Unix ms when the advert was made and when it lapses. */
  at: number;
  expires: number;
}
