/** A capacity advert for tests and benchmarks: a small wasm node, overridden where a test cares. */
import type { CapacityAdvert } from "../../protocol/capacity/advert.ts";

export const advert = (over: Partial<CapacityAdvert> = {}): CapacityAdvert => ({
  cpu: { cores: 2, load: 0 },
  memoryMb: { total: 1024, free: 512 },
  gpus: 0,
  runners: ["wasm"],
  tags: [],
  version: "test",
  running: 0,
  slots: 1,
  ttl: 60,
  ...over,
});
