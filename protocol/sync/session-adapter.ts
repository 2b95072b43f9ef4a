/**
 * The automerge-repo NetworkAdapter side of sync sessions: transports
 * (libp2p streams, in-process channels, WebSockets) create a SyncSession per
 * remote, and this base class announces authenticated remotes to the repo,
 * routes outgoing messages to their session, and forgets remotes that go.
 */
import { type Message, NetworkAdapter, type PeerId, type PeerMetadata } from "@automerge/automerge-repo";
import type { Diagnostics } from "../diagnostics.ts";
import type { SyncAuthority } from "./sync-authority.ts";
import { type FrameLink, type SessionOptions, SyncSession } from "./session.ts";
import type { PeerAccess } from "./peer-access.ts";

export interface SessionAdapterOptions {
  did: string;
  authority: SyncAuthority;
  diagnostics: Diagnostics;
  /** Gossip that arrived on a session (see SessionOptions.onGossip). */
  onGossip?: SessionOptions["onGossip"];
  /** A remote asked to be caught up on a space's gossip (see SessionOptions.onPull). */
  onPull?: SessionOptions["onPull"];
  /** Blobs served to remotes (see SessionOptions.blobs). */
  blobs?: SessionOptions["blobs"];
  /** Run logs served to remotes (see SessionOptions.logs). */
  logs?: SessionOptions["logs"];
  /** The spaces a connected remote may sync changed (see SessionOptions.onAccessChanged). */
  onAccessChanged?: SessionOptions["onAccessChanged"];
}

export abstract class SessionNetworkAdapter extends NetworkAdapter implements PeerAccess {
  protected readonly options: SessionAdapterOptions;
  readonly #sessions = new Map<string, SyncSession>();
  readonly #pending = new Set<SyncSession>();
  #ready = false;
  #readyResolvers: Array<() => void> = [];
  readonly #sharedListeners = new Set<(session: SyncSession, spaces: readonly string[]) => void>();
  readonly #accessListeners: Array<(peer: string) => void> = [];

  /**
   * Whether document heads are gossiped over this transport's sessions.
   * Off for WebSockets and in-process links: a session already pushes every
   * change of the documents its remote holds, and a browser tab should not
   * be made to fetch documents it did not open. libp2p peers keep whole
   * spaces and get heads (see Libp2pNetworkAdapter).
   */
  readonly carriesHeads: boolean = false;

  /** The remotes are Weft nodes: they keep whole spaces. */
  readonly offersWholeSpaces = true;

  constructor(options: SessionAdapterOptions) {
    super();
    this.options = options;
  }

  isReady(): boolean {
    return this.#ready;
  }

  whenReady(): Promise<void> {
    return this.#ready ? Promise.resolve() : new Promise((r) => this.#readyResolvers.push(r));
  }

  protected markReady(): void {
    this.#ready = true;
    for (const r of this.#readyResolvers.splice(0)) r();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata;
    this.start();
  }

  /** Begin accepting and making links. */
  protected abstract start(): void;

  spacesOf(peer: string): ReadonlySet<string> | undefined {
    return this.#sessions.get(peer)?.spaces;
  }

  onPeerAccess(listener: (peer: string) => void): void {
    this.#accessListeners.push(listener);
  }

  #accessChanged(peer: string): void {
    for (const l of this.#accessListeners) l(peer);
  }

  /** Sessions whose remote has authenticated, by remote repo peer id. */
  get sessions(): ReadonlyMap<string, SyncSession> {
    return this.#sessions;
  }

  /** Called when some spaces become shared both ways with a remote (see SessionOptions.onShared). */
  onShared(listener: (session: SyncSession, spaces: readonly string[]) => void): () => void {
    this.#sharedListeners.add(listener);
    return () => this.#sharedListeners.delete(listener);
  }

  /**
   * Run a session over a new link; `expectedRemoteDid` when the transport
   * authenticated the remote; `withhold` when the remote connected to us
   * (see SessionOptions.withhold); `onAdmitted` once the remote has proved a
   * space (so a server can lift what it allows an unauthenticated link).
   */
  protected openSession(
    link: FrameLink,
    options: { expectedRemoteDid?: string; carrier?: boolean; withhold?: boolean; onAdmitted?: () => void } = {},
  ): SyncSession {
    let admitted = false;
    const admitIfProved = (s: SyncSession) => {
      if (admitted || s.spaces.size === 0) return;
      admitted = true;
      options.onAdmitted?.();
    };
    const session: SyncSession = new SyncSession({
      link,
      localDid: this.options.did,
      localPeer: this.peerId as string,
      localMeta: this.peerMetadata as { storageId?: string; isEphemeral?: boolean } | undefined,
      authority: this.options.authority,
      diagnostics: this.options.diagnostics,
      expectedRemoteDid: options.expectedRemoteDid,
      carrier: options.carrier ?? false,
      withhold: options.withhold ?? false,
      onReady: (s) => {
        this.#pending.delete(s);
        const peer = s.remotePeer as string;
        const previous = this.#sessions.get(peer);
        if (previous && previous !== s) previous.close();
        this.#sessions.set(peer, s);
        this.#accessChanged(peer);
        this.emit("peer-candidate", {
          peerId: peer as PeerId,
          peerMetadata: (s.remoteMeta ?? {}) as PeerMetadata,
        });
        admitIfProved(s);
      },
      onShared: (s, spaces) => {
        for (const l of this.#sharedListeners) l(s, spaces);
      },
      onAccessChanged: (s) => {
        if (this.#sessions.get(s.remotePeer as string) === s) this.#accessChanged(s.remotePeer as string);
        admitIfProved(s);
        this.options.onAccessChanged?.(s);
      },
      onMessage: (m) => this.emit("message", m),
      onGossip: this.options.onGossip,
      onPull: this.options.onPull,
      blobs: this.options.blobs,
      logs: this.options.logs,
      onClose: (s) => {
        this.#pending.delete(s);
        const peer = s.remotePeer;
        if (peer !== undefined && this.#sessions.get(peer) === s) {
          this.#sessions.delete(peer);
          this.#accessChanged(peer);
          this.emit("peer-disconnected", { peerId: peer as PeerId });
        }
      },
    });
    this.#pending.add(session);
    session.start();
    return session;
  }

  send(message: Message): void {
    this.#sessions.get(message.targetId)?.send(message);
  }

  disconnect(): void {
    for (const s of [...this.#sessions.values(), ...this.#pending]) s.close();
    this.stop();
    this.emit("close");
  }

  /** Stop accepting links. */
  protected abstract stop(): void;
}
