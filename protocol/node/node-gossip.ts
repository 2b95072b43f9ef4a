/**
 * A node's gossip: one SpaceGossip per space it holds, carried only over
 * sync sessions. A session sends a space's gossip only to a remote that
 * proved it may sync that space, so no adverts, heads or lease renewals
 * ever reach a peer that is not a member (or a relay carrying the space for
 * its members). Heads are announced at most every 250 ms per space, and a
 * remote newly sharing a space is caught up on the live adverts at once.
 */
import type { DocumentId } from "@automerge/automerge-repo";
import { type GossipTransport, SpaceGossip } from "../space/gossip.ts";
import type { Space } from "../space/space.ts";
import type { GossipChannel } from "../sync/frames.ts";
import type { SyncSession } from "../sync/session.ts";
import { type NodeContext, sessionsOf } from "./node-context.ts";
import type { SharePolicy } from "./share-policy.ts";

/** How often a space's heads are announced at most. */
const HEADS_EVERY_MS = 250;

export class NodeGossip {
  readonly #ctx: NodeContext;
  readonly #share: SharePolicy;
  readonly #bySpace = new Map<string, SpaceGossip>();
  readonly #headsTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(ctx: NodeContext, share: SharePolicy) {
    this.#ctx = ctx;
    this.#share = share;
  }

  /** The gossip of a space this node holds. */
  get(spaceId: string): SpaceGossip | undefined {
    return this.#bySpace.get(spaceId);
  }

  /** Gossip that arrived on a session, for a space its remote proved. */
  receive(session: SyncSession, space: string, channel: GossipChannel, bytes: Uint8Array): void {
    void this.#bySpace.get(space)?.receive(channel, bytes, session);
  }

  /**
   * Catch a remote up on who offers what in a space, rather than leave it to
   * wait for each node's next advert. Sent when the space becomes shared
   * with it, and again when it asks (it may only start gossip for a space
   * it is joining once its documents are here).
   */
  catchUp(session: SyncSession, space: string): void {
    for (const bytes of this.#bySpace.get(space)?.advertBytes() ?? []) session.sendGossip(space, "capacity", bytes);
  }

  /** Start gossip for a space this node now holds, and ask connected remotes for what is live. */
  start(space: Space): void {
    if (this.#bySpace.has(space.id)) return;
    const g = new SpaceGossip({
      space,
      signer: this.#ctx.signer,
      diagnostics: this.#ctx.diagnostics,
      now: this.#ctx.now,
      onHeads: (doc, heads) => {
        if (this.#share.spaceOf(doc) !== space.id) return;
        const handle = this.#ctx.repo.handles[doc as DocumentId];
        const known = handle?.isReady() ? new Set(handle.heads() as string[]) : new Set<string>();
        if (!heads.every((h) => known.has(h))) void this.#ctx.repo.find(doc as DocumentId).catch(() => {});
      },
    });
    g.addTransport(this.#transport(space.id));
    this.#bySpace.set(space.id, g);
    for (const session of sessionsOf(this.#ctx)) session.pullGossip(space.id);
  }

  /** Announce a space's heads on gossip, at most every 250 ms. */
  scheduleHeads(space: Space): void {
    const g = this.#bySpace.get(space.id);
    if (!g || this.#headsTimers.has(space.id)) return;
    this.#headsTimers.set(
      space.id,
      setTimeout(() => {
        this.#headsTimers.delete(space.id);
        const heads: Record<string, string[]> = {};
        for (const id of space.documentIds) {
          const h = this.#ctx.repo.handles[id];
          if (h?.isReady()) heads[id] = h.heads() as string[];
        }
        void g.announceHeads(heads).catch(() => {});
      }, HEADS_EVERY_MS),
    );
  }

  stop(): void {
    for (const t of this.#headsTimers.values()) clearTimeout(t);
    for (const g of this.#bySpace.values()) g.stop();
  }

  #transport(space: string): GossipTransport {
    return {
      send: (channel, bytes, from) => {
        for (const adapter of this.#ctx.adapters) {
          if (channel === "heads" && !adapter.carriesHeads) continue;
          for (const session of adapter.sessions.values()) {
            if (session !== from) session.sendGossip(space, channel, bytes);
          }
        }
      },
    };
  }
}
