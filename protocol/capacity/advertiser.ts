/**
 * The loop that advertises a node's capacity on every space's gossip it may
 * advertise in (signed, with a TTL three times the period, so a node that
 * stops advertising drops out of every view). Shared by the daemon and the
 * browser: each supplies only what it offers now. A bridge that runs jobs
 * (a cluster) advertises the same way as its own principal.
 */
import type { Signer } from "../identity/ed25519.ts";
import type { WeftNode } from "../node/node.ts";
import { InvalidInput } from "../schema/input-checks.ts";
import { Commands } from "../ucan/commands.ts";
import { type CapacityAdvert, type LiveAdvert, MAX_ADVERT_TTL_SECONDS } from "./advert.ts";

/** How long a withdrawal ("no runners, no slots") is kept by others, in seconds. */
const WITHDRAWN_TTL = 5;

/** The longest period: its adverts live three periods, which must stay within the longest TTL. */
export const MAX_ADVERT_PERIOD_MS = Math.floor(MAX_ADVERT_TTL_SECONDS / 3) * 1000;

export class CapacityAdvertiser {
  readonly #node: WeftNode;
  readonly #offer: (withdrawn: boolean) => Omit<CapacityAdvert, "ttl">;
  readonly #periodMs: number;
  readonly #signer?: Signer;
  #timer?: ReturnType<typeof setInterval>;
  #soon?: ReturnType<typeof setTimeout>;
  #last?: LiveAdvert;

  /**
   * `offer(withdrawn)` says what this node offers now; withdrawn, it must
   * offer no runners and no slots. `as` advertises as another principal
   * held on this node (a bridge) instead of the node. A period whose adverts
   * would outlive the longest TTL every node accepts is refused here, not
   * left to fail at each advert.
   */
  constructor(
    node: WeftNode,
    offer: (withdrawn: boolean) => Omit<CapacityAdvert, "ttl">,
    periodMs = 30_000,
    as?: Signer,
  ) {
    if (!(periodMs > 0 && periodMs <= MAX_ADVERT_PERIOD_MS)) {
      throw new InvalidInput(
        "capacity advert period",
        `must be more than 0 and at most ${MAX_ADVERT_PERIOD_MS / 1000} s (adverts live three periods, ` +
          `at most ${MAX_ADVERT_TTL_SECONDS} s); it is ${periodMs / 1000} s`,
      );
    }
    this.#node = node;
    this.#offer = offer;
    this.#periodMs = periodMs;
    if (as) this.#signer = as;
  }

  /** Whose adverts these are: the node's, or the principal it advertises as. */
  get did(): string {
    return this.#signer?.did ?? this.#node.did;
  }

  /** Advertise now and every period; resolves once the first advert went out. */
  start(): Promise<void> {
    this.#timer = setInterval(() => void this.advertise(), this.#periodMs);
    return this.advertise();
  }

  /** What this node offers changed (a job started or ended): advertise shortly, once for a burst. */
  advertiseSoon(): void {
    if (this.#soon || this.#timer === undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.advertise();
    }, 100);
  }

  /** Advertise now in every space this node (or the principal it advertises as) may advertise in. */
  async advertise(withdrawn = false): Promise<void> {
    const ttl = withdrawn ? WITHDRAWN_TTL : Math.ceil((3 * this.#periodMs) / 1000);
    const advert: CapacityAdvert = { ...this.#offer(withdrawn), ttl };
    const now = Math.floor(Date.now() / 1000);
    for (const space of this.#node.spaces()) {
      const gossip = this.#node.gossip(space.id);
      if (!gossip || space.authority.chainsFor(this.did, Commands.capacityAdvertise, now).length === 0) continue;
      this.#last = await gossip.advertise(advert, this.#signer).catch(() => this.#last);
    }
    this.#last ??= { ...advert, node: this.did, at: Date.now(), expires: Date.now() + advert.ttl * 1000 };
  }

  /** The last advert this node made. */
  current(): LiveAdvert | undefined {
    return this.#last;
  }

  /** Stop advertising; `withdraw` says so at once rather than letting the last advert lapse. */
  async stop(withdraw = false): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#timer = this.#soon = undefined;
    if (withdraw) await this.advertise(true);
  }
}
