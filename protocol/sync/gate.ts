/**
 * The gate between a sync session and automerge-repo: every repo message,
 * in either direction, passes only for documents of spaces the remote
 * proved it may sync; everything else is dropped and counted. A request
 * we withhold is answered locally as unavailable, so the repo does not
 * wait on it. The remote speaks only for itself, to us.
 *
 *   {type: "repo", message: <automerge-repo message>}
 */
import type { Message } from "@automerge/automerge-repo";
import { object, oneOf, required } from "../schema/input-checks.ts";
import { anyMap, type FrameHandler, type FrameSpec, stripUndefined } from "./frame-checks.ts";
import type { SessionContext } from "./session-context.ts";

const DOC_MESSAGES = new Set(["sync", "request", "doc-unavailable", "ephemeral", "remote-heads-changed"]);
const PEER_MESSAGES = new Set(["remote-subscription-change"]);
/** Document messages that must carry data. */
const DATA_MESSAGES = new Set(["sync", "request", "ephemeral"]);

const repoFrame = object({ type: required(oneOf("repo")), message: required(anyMap) });

export type RepoFrame = ReturnType<typeof repoFrame>;

export const repoFrames = { repo: { check: repoFrame, stage: "ready" } as FrameSpec<RepoFrame> };

export class RepoGate {
  readonly #ctx: SessionContext;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  readonly handlers: { repo: FrameHandler<RepoFrame> } = { repo: (frame) => this.#receive(frame.message) };

  /** Send `message` to the remote if it may see its document; a refused request is answered locally. */
  send(message: Message): void {
    const { options, session } = this.#ctx;
    if (this.#ctx.closed() || !session.ready) return;
    const doc = message.documentId;
    if (doc !== undefined) {
      const space = options.authority.spaceOf(doc);
      if (space === undefined || !session.spaces.has(space)) {
        options.diagnostics.count("sync.withheld");
        if (message.type === "request") {
          const senderId = session.remotePeer;
          queueMicrotask(() =>
            options.onMessage(
              { type: "doc-unavailable", documentId: doc, senderId, targetId: options.localPeer } as Message,
            )
          );
        }
        return;
      }
    }
    this.#ctx.send({ type: "repo", message: stripUndefined(message as unknown as Record<string, unknown>) });
  }

  #receive(m: Record<string, unknown>): void {
    const { options, session } = this.#ctx;
    const type = m.type;
    if (typeof type !== "string" || !(DOC_MESSAGES.has(type) || PEER_MESSAGES.has(type))) {
      this.#ctx.refuse("repo", "sync/unknown-message", `unknown message type ${JSON.stringify(type)?.slice(0, 40)}`);
      return;
    }
    if (DOC_MESSAGES.has(type)) {
      const doc = m.documentId;
      if (typeof doc !== "string") return this.#ctx.refuse(type, "sync/malformed", "message without a documentId");
      const space = options.authority.spaceOf(doc);
      if (space === undefined) {
        // Not (yet) known to be a space document here: e.g. announced before we read the genesis.
        options.diagnostics.count("sync.unknown-document");
        return;
      }
      if (!session.spaces.has(space)) {
        return this.#ctx.refuse(type, "sync/not-a-member", `not authorized for document ${doc}`, space);
      }
      if (DATA_MESSAGES.has(type) && !(m.data instanceof Uint8Array)) {
        return this.#ctx.refuse(type, "sync/malformed", "message without data");
      }
    }
    options.onMessage({ ...m, senderId: session.remotePeer, targetId: options.localPeer } as Message);
  }
}
