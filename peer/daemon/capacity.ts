/**
 * This machine's capacity, read from the OS, and the loop that advertises
 * it on every space's gossip (signed, with a TTL three times the period,
 * so a node that stops advertising drops out of every view).
 */
import { availableParallelism, freemem, loadavg, totalmem } from "node:os";
import type { CapacityAdvert, LiveAdvert } from "#protocol/capacity";
import type { WeftNode } from "#protocol/node";
import { Commands } from "#protocol/ucan";

export interface CapacitySettings {
  gpus: number;
  tags: string[];
  runners: () => string[];
  running: () => number;
  slots: () => number;
  version: string;
}

export function measureCapacity(s: CapacitySettings, ttl: number): CapacityAdvert {
  const mib = (b: number) => Math.floor(b / (1024 * 1024));
  return {
    cpu: { cores: availableParallelism(), load: Math.round(loadavg()[0] * 100) / 100 },
    memoryMb: { total: mib(totalmem()), free: mib(freemem()) },
    gpus: s.gpus,
    runners: s.runners(),
    tags: s.tags,
    version: s.version,
    running: s.running(),
    slots: s.slots(),
    ttl,
  };
}

export class CapacityAdvertiser {
  readonly #node: WeftNode;
  readonly #settings: CapacitySettings;
  readonly #periodMs: number;
  #timer?: ReturnType<typeof setInterval>;
  #last?: LiveAdvert;

  constructor(node: WeftNode, settings: CapacitySettings, periodMs = 30_000) {
    this.#node = node;
    this.#settings = settings;
    this.#periodMs = periodMs;
  }

  start(): void {
    void this.advertise();
    this.#timer = setInterval(() => void this.advertise(), this.#periodMs);
  }

  #soon?: ReturnType<typeof setTimeout>;

  /** What this node offers changed (a job started or ended): advertise shortly, once for a burst. */
  advertiseSoon(): void {
    if (this.#soon || this.#timer === undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.advertise();
    }, 100);
  }

  /** Advertise now in every space this node may advertise in. */
  async advertise(): Promise<void> {
    const advert = measureCapacity(this.#settings, Math.ceil((3 * this.#periodMs) / 1000));
    const now = Math.floor(Date.now() / 1000);
    for (const space of this.#node.spaces()) {
      const gossip = this.#node.gossip(space.id);
      if (!gossip || space.authority.chainsFor(this.#node.did, Commands.capacityAdvertise, now).length === 0) continue;
      this.#last = await gossip.advertise(advert).catch(() => this.#last);
    }
    this.#last ??= { ...advert, node: this.#node.did, at: Date.now(), expires: Date.now() + advert.ttl * 1000 };
  }

  current(): LiveAdvert | undefined {
    return this.#last;
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#timer = undefined;
  }
}
