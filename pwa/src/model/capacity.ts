/**
 * Capacity as this node hears it: the live adverts on each space's gossip
 * (signed, expiring), and a short history of each node's load, memory and
 * job slots for the resources chart. Gossip may be attached to a space
 * after it opens, so spaces are looked at again every few seconds.
 */
import type { LiveAdvert } from "#protocol/capacity";
import type { WeftNode } from "#protocol/node";
import type { SpaceGossip } from "#protocol/space";

export interface Sample {
  /** Unix ms of the advert. */
  at: number;
  load: number;
  cores: number;
  memUsedMb: number;
  memTotalMb: number;
  running: number;
  slots: number;
}

/** How much history the chart keeps per node. */
export const HISTORY_MS = 10 * 60_000;

export class CapacityLog {
  readonly #node: WeftNode;
  /** space -> node DID -> samples, oldest first. */
  readonly #series = new Map<string, Map<string, Sample[]>>();
  readonly #watched = new WeakSet<SpaceGossip>();
  readonly #listeners = new Set<() => void>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(node: WeftNode, pollMs = 3000) {
    this.#node = node;
    this.#watch();
    this.#timer = setInterval(() => this.#watch(), pollMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Whether this node receives a space's gossip at all. */
  hasGossip(space: string): boolean {
    return this.#node.gossip(space) !== undefined;
  }

  adverts(space: string): LiveAdvert[] {
    return this.#node.gossip(space)?.adverts() ?? [];
  }

  series(space: string, node: string): readonly Sample[] {
    return this.#series.get(space)?.get(node) ?? [];
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #watch(): void {
    for (const space of this.#node.spaces()) {
      const gossip = this.#node.gossip(space.id);
      if (!gossip || this.#watched.has(gossip)) continue;
      this.#watched.add(gossip);
      for (const a of gossip.adverts()) this.#add(space.id, a);
      gossip.onAdvert((a) => this.#add(space.id, a));
    }
  }

  #add(space: string, a: LiveAdvert): void {
    const bySpace = this.#series.get(space) ?? new Map<string, Sample[]>();
    this.#series.set(space, bySpace);
    const list = bySpace.get(a.node) ?? [];
    bySpace.set(a.node, list);
    if (list.length > 0 && list[list.length - 1].at >= a.at) return;
    list.push({
      at: a.at,
      load: a.cpu.load,
      cores: a.cpu.cores,
      memUsedMb: a.memoryMb.total - a.memoryMb.free,
      memTotalMb: a.memoryMb.total,
      running: a.running,
      slots: a.slots,
    });
    while (list.length > 0 && list[0].at < a.at - HISTORY_MS) list.shift();
    for (const l of this.#listeners) l();
  }
}
