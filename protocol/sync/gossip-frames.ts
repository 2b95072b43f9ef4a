/**
 * A space's gossip over a sync session: there is no open topic, so adverts,
 * heads and lease renewals go only to a remote that proved the space, and
 * are taken only from one. `pull` asks a remote that just started gossip
 * for a space to be sent what is live now (answered once per space and
 * session, so it cannot be used to amplify).
 *
 *   {type: "gossip", space, channel, data}
 *   {type: "pull", space}
 */
import { object, oneOf, required } from "../schema/input-checks.ts";
import { bytes, didKey, type FrameHandler, type FrameSpec } from "./frame-checks.ts";
import type { SessionContext } from "./session-context.ts";

export type GossipChannel = "capacity" | "heads" | "leases";
export const GOSSIP_CHANNELS: readonly GossipChannel[] = ["capacity", "heads", "leases"];
export const MAX_GOSSIP_BYTES = 64 * 1024;

const gossipFrame = object({
  type: required(oneOf("gossip")),
  space: required(didKey),
  channel: required(oneOf(...GOSSIP_CHANNELS)),
  data: required(bytes(MAX_GOSSIP_BYTES)),
});
const pullFrame = object({ type: required(oneOf("pull")), space: required(didKey) });

export type GossipFrame = ReturnType<typeof gossipFrame>;
export type PullFrame = ReturnType<typeof pullFrame>;
export type GossipFrames = GossipFrame | PullFrame;

export const gossipFrames = {
  gossip: { check: gossipFrame, stage: "ready" } as FrameSpec<GossipFrame>,
  pull: { check: pullFrame, stage: "ready" } as FrameSpec<PullFrame>,
};

export class GossipExchange {
  readonly #ctx: SessionContext;
  /** Catch-ups asked for, by space: answered once each. */
  readonly #pulled = new Set<string>();

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  readonly handlers: { gossip: FrameHandler<GossipFrame>; pull: FrameHandler<PullFrame> } = {
    gossip: (frame) => {
      if (!this.#ctx.session.spaces.has(frame.space)) {
        return this.#ctx.refuse("gossip", "sync/not-a-member", `not authorized for space ${frame.space}`, frame.space);
      }
      this.#ctx.options.onGossip?.(this.#ctx.session, frame.space, frame.channel, frame.data);
    },
    pull: (frame) => {
      if (!this.#ctx.session.spaces.has(frame.space)) {
        return this.#ctx.refuse("pull", "sync/not-a-member", `not authorized for space ${frame.space}`, frame.space);
      }
      if (this.#pulled.has(frame.space)) return;
      this.#pulled.add(frame.space);
      this.#ctx.options.onPull?.(this.#ctx.session, frame.space);
    },
  };

  /** Send gossip to the remote, if it may see the space. */
  send(space: string, channel: GossipChannel, data: Uint8Array): void {
    const { session } = this.#ctx;
    if (this.#ctx.closed() || !session.ready || !session.spaces.has(space)) return;
    this.#ctx.send({ type: "gossip", space, channel, data });
  }

  /** This node just started gossip for a space the remote shares: ask it for what is live. */
  pull(space: string): void {
    if (this.#ctx.closed() || !this.#ctx.session.shared.has(space)) return;
    this.#ctx.send({ type: "pull", space });
  }
}
