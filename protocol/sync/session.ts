/**
 * One authenticated sync session with one remote, over any framed link.
 *
 * Frames are read strictly in order. Each is decoded and checked against
 * its type's schema (frames.ts), then handed to the handler registered for
 * its type by the part that owns that frame family: the handshake (who the
 * remote is, which spaces it may sync), the gate (automerge-repo messages,
 * only for those spaces), gossip, blob exchange and log streams. A frame
 * that comes before its stage (anything before `hello`; anything but the
 * handshake before the remote's `auth` was checked) closes the session.
 */
import type { Message } from "@automerge/automerge-repo";
import type { Diagnostics } from "../diagnostics.ts";
import { isWeftError } from "../errors.ts";
import { BlobExchange } from "./blob-exchange.ts";
import { type FrameHandler, type FrameStage, SyncProtocolError } from "./frame-checks.ts";
import { decodeFrame, encodeFrame, type Frame, FRAME_SPECS, type FrameType } from "./frames.ts";
import { RepoGate } from "./gate.ts";
import { GossipExchange } from "./gossip-frames.ts";
import type { GossipChannel } from "./gossip-frames.ts";
import { Handshake, type HelloFrame } from "./handshake.ts";
import { LogStreams, type WireLogLine } from "./log-streams.ts";
import type { SessionContext } from "./session-context.ts";
import type { SyncAuthority } from "./sync-authority.ts";

/** A bidirectional channel carrying whole frames. */
export interface FrameLink {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface SessionOptions {
  link: FrameLink;
  localDid: string;
  /** This repo's automerge peer id and metadata. */
  localPeer: string;
  localMeta?: { storageId?: string; isEphemeral?: boolean };
  authority: SyncAuthority;
  diagnostics: Diagnostics;
  /** If the transport authenticated the remote (libp2p noise), its DID. */
  expectedRemoteDid?: string;
  /**
   * The remote connected to us (we did not choose it): our proofs wait for
   * its `auth` and name only the spaces it proved. At most one side of a
   * link withholds, so the handshake always completes.
   */
  withhold?: boolean;
  /**
   * The remote is a relay this node chose to use: it carries the spaces it
   * accepts our proofs for, so those spaces' documents are shared with it
   * although it is not a member itself.
   */
  carrier?: boolean;
  /** The remote proved who it is: announce it to the repo. */
  onReady(session: SyncSession): void;
  /**
   * These spaces are now shared both ways: the remote proved it may sync
   * them and accepted our proofs for them, so it serves them to us and takes
   * their gossip. Each space is reported once (again only after it stopped).
   */
  onShared?(session: SyncSession, spaces: readonly string[]): void;
  /** The spaces shared with the remote (`session.spaces`) changed after it was announced. */
  onAccessChanged?(session: SyncSession): void;
  /** A message the gate let through, with senderId set to the remote. */
  onMessage(message: Message): void;
  /** Gossip from the remote, for a space it proved it may sync. */
  onGossip?(session: SyncSession, space: string, channel: GossipChannel, bytes: Uint8Array): void;
  /** The remote asks to be caught up on a space's live gossip (see `pullGossip`); once per space. */
  onPull?(session: SyncSession, space: string): void;
  /**
   * The blobs this node serves to remotes it shares a space with; with
   * `hops` > 0 it may ask its other peers (not `from`) for one it lacks.
   */
  blobs?(cid: string, hops: number, from: SyncSession): Promise<Uint8Array | undefined>;
  /**
   * The log of a run on this node from its start (and, with `follow`, each
   * new line until it ends); undefined if no such run is here.
   */
  logs?(space: string, task: string, follow: boolean, signal: AbortSignal): AsyncIterable<WireLogLine> | undefined;
  onClose(session: SyncSession): void;
}

export class SyncSession {
  readonly #o: SessionOptions;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();
  readonly #handshake: Handshake;
  readonly #gate: RepoGate;
  readonly #gossip: GossipExchange;
  readonly #blobs: BlobExchange;
  readonly #logs: LogStreams;
  /** The handler registered for each frame type. */
  readonly #handlers: { [T in FrameType]: FrameHandler<Extract<Frame, { type: T }>> };

  constructor(options: SessionOptions) {
    this.#o = options;
    const ctx: SessionContext = {
      options,
      session: this,
      closed: () => this.#closed,
      send: (frame) => this.#send(frame),
      refuse: (what, code, reason, space) => this.#refuse(what, code, reason, space),
      enqueue: (work) => {
        this.#queue = this.#queue.then(() => (this.#closed ? undefined : work())).catch(() => this.close());
      },
      close: () => this.close(),
    };
    this.#handshake = new Handshake(ctx);
    this.#gate = new RepoGate(ctx);
    this.#gossip = new GossipExchange(ctx);
    this.#blobs = new BlobExchange(ctx);
    this.#logs = new LogStreams(ctx);
    this.#handlers = {
      ...this.#handshake.handlers,
      ...this.#gate.handlers,
      ...this.#gossip.handlers,
      ...this.#blobs.handlers,
      ...this.#logs.handlers,
    };
  }

  get remoteDid(): string | undefined {
    return this.#handshake.remote?.did;
  }

  get remotePeer(): string | undefined {
    return this.#handshake.remote?.peer;
  }

  get remoteMeta(): HelloFrame["meta"] {
    return this.#handshake.remote?.meta;
  }

  get ready(): boolean {
    return this.#handshake.ready;
  }

  /** Spaces the remote proved it may sync. */
  get spaces(): ReadonlySet<string> {
    return this.#handshake.spaces;
  }

  /** Spaces the remote accepted our proofs for. */
  get accepted(): ReadonlySet<string> {
    return this.#handshake.accepted;
  }

  /** Spaces shared both ways, as reported to `onShared`. */
  get shared(): ReadonlySet<string> {
    return this.#handshake.shared;
  }

  start(): void {
    this.#handshake.start();
  }

  /** Feed one received frame. Frames are handled strictly in order. */
  receive(bytes: Uint8Array): Promise<void> {
    this.#queue = this.#queue.then(() => this.#process(bytes));
    return this.#queue;
  }

  async #process(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return;
    this.#o.diagnostics.count("sync.bytes.in", bytes.length);
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch (e) {
      this.#refuse("frame", isWeftError(e) ? e.code : "sync/protocol", (e as Error).message);
      this.close();
      return;
    }
    try {
      this.#inStage(frame.type, FRAME_SPECS[frame.type].stage);
      const handled = (this.#handlers[frame.type] as FrameHandler<Frame>)(frame);
      if (handled) await handled;
    } catch (e) {
      this.#refuse(frame.type, isWeftError(e) ? e.code : "sync/error", (e as Error).message);
      this.close();
    }
  }

  /** Throws if a frame of `type` may not come yet. */
  #inStage(type: FrameType, stage: FrameStage): void {
    if (stage === "first") return;
    if (!this.#handshake.remote) throw new SyncProtocolError(`${type} before hello`);
    if (stage === "ready" && !this.#handshake.ready) throw new SyncProtocolError(`${type} before auth`);
  }

  /**
   * A run's log on the remote (the node running it): every line so far and,
   * with `follow`, each new one until the run ends, the link goes, or
   * `signal` aborts. Throws if the remote has no such run or refuses.
   */
  runLog(space: string, task: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<WireLogLine> {
    return this.#logs.follow(space, task, follow, signal);
  }

  /** Send gossip to the remote, if it may see the space. */
  sendGossip(space: string, channel: GossipChannel, bytes: Uint8Array): void {
    this.#gossip.send(space, channel, bytes);
  }

  /** This node just started gossip for a space the remote shares: ask it for what is live. */
  pullGossip(space: string): void {
    this.#gossip.pull(space);
  }

  /**
   * Ask the remote for a blob (which it may look for `hops` peers further);
   * undefined if it has none, goes away, or `signal` aborts first.
   */
  want(cid: string, signal?: AbortSignal, hops = 0): Promise<Uint8Array | undefined> {
    return this.#blobs.want(cid, signal, hops);
  }

  /** Send a repo message, if the remote may see its document; a refused request is answered locally as unavailable. */
  send(message: Message): void {
    this.#gate.send(message);
  }

  #send(frame: Frame): void {
    if (this.#closed) return;
    try {
      const bytes = encodeFrame(frame);
      this.#o.diagnostics.count("sync.bytes.out", bytes.length);
      this.#o.link.send(bytes);
    } catch {
      this.close();
    }
  }

  #refuse(what: string, code: string, reason: string, space?: string): void {
    this.#o.diagnostics.refuse({
      kind: "sync",
      from: this.#handshake.remote?.did ?? this.#o.expectedRemoteDid,
      what,
      code,
      reason,
      ...(space ? { space } : {}),
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handshake.close();
    this.#blobs.close();
    this.#logs.close();
    try {
      this.#o.link.close();
    } catch {
      // already gone
    }
    this.#o.onClose(this);
  }
}
