/**
 * `createNode`: every Weft node — headless peer, browser tab, edge relay —
 * is one of these. It wires an automerge-repo Repo (with the storage the
 * shell injects) to libp2p (with the transports the shell injects) through
 * authenticated sync sessions, and holds the spaces this node is in.
 *
 * This file only assembles the parts, each in its own file: the share
 * policy, the sync authority and its change notices, gossip, blob hops,
 * joining, relay mode, and the node's own record (restore).
 */
import {
  type NetworkAdapterInterface,
  type PeerId,
  Repo,
  type StorageAdapterInterface,
} from "@automerge/automerge-repo";
import { Diagnostics } from "../diagnostics.ts";
import { WeftError } from "../errors.ts";
import type { Keystore } from "../identity/keystore.ts";
import type { Signer, Verifier } from "../identity/ed25519.ts";
import type { Delegation } from "../ucan/delegation.ts";
import { HybridClock } from "../tasks/hlc.ts";
import { MemoryStorageAdapter } from "../storage/memory-storage.ts";
import type { SyncAuthority } from "../sync/sync-authority.ts";
import type { SessionAdapterOptions, SessionNetworkAdapter } from "../sync/session-adapter.ts";
import type { SyncSession } from "../sync/session.ts";
import { StockWebSocketAdapter } from "../sync/stock-websocket-adapter.ts";
import { decodeInvite, type Invite } from "../space/invite.ts";
import { Space, type SpaceDeps } from "../space/space.ts";
import { type SpaceGossip, travelsOnLeases } from "../space/gossip.ts";
import type { ContentStore } from "../runner/runner.ts";
import type { Libp2pConfig, WeftLibp2p } from "./libp2p.ts";
import { AuthorityChanges } from "./authority-changes.ts";
import { BlobHops } from "./blob-hops.ts";
import { type InviteOptions, inviteText, Joining, memberChain } from "./joining.ts";
import { type NodeContext, sessionsOf } from "./node-context.ts";
import { NodeGossip } from "./node-gossip.ts";
import { nodeSyncAuthority } from "./node-sync-authority.ts";
import { RelayMode } from "./relay-mode.ts";
import { RepoStorage } from "./repo-storage.ts";
import { scopePeerWalks } from "./peer-walks.ts";
import { NodeRecords } from "./restore.ts";
import { SharePolicy } from "./share-policy.ts";

export interface NodeOptions {
  /** This node's identity. */
  signer: Signer;
  /** Where new space root keys are kept. */
  keystore: Keystore;
  /** Document storage (default: in memory, lost on exit). */
  storage?: StorageAdapterInterface;
  /** libp2p transports and addresses; omit for a node without libp2p (a browser on WebSocket, a test). */
  libp2p?: Libp2pConfig;
  verifier?: Verifier;
  /** Wall clock in Unix ms (injected for tests). */
  now?: () => number;
  /** A node that keeps nothing (a browser tab with no storage): peers skip its sync state. */
  isEphemeral?: boolean;
  /**
   * A relay: carry the spaces of members who connect and prove membership
   * (checked against each space's root DID and, once its document is here,
   * its revocations), without being a member of any.
   */
  carrier?: boolean;
  /** As a carrier, only these spaces (DIDs); default: any. */
  carrierSpaces?: string[];
}

export class WeftNode {
  readonly did: string;
  readonly signer: Signer;
  readonly repo: Repo;
  readonly diagnostics = new Diagnostics();
  readonly hlc: HybridClock;
  readonly libp2p?: WeftLibp2p;
  readonly authority: SyncAuthority;
  readonly #keystore: Keystore;
  readonly #storage: RepoStorage;
  readonly #ctx: NodeContext;
  readonly #spaces = new Map<string, Space>();
  readonly #adapters: SessionNetworkAdapter[] = [];
  readonly #share: SharePolicy;
  readonly #changes: AuthorityChanges;
  readonly #gossip: NodeGossip;
  readonly #blobs: BlobHops;
  readonly #joining: Joining;
  readonly #records: NodeRecords;
  /** Where the logs of runs on this node are read: the node's scheduler, and a bridge's that runs jobs here. */
  readonly #logs = new Set<NonNullable<SessionAdapterOptions["logs"]>>();
  #stopped = false;

  private constructor(options: NodeOptions & { storage: StorageAdapterInterface }, libp2p: WeftLibp2p | undefined) {
    this.signer = options.signer;
    this.did = options.signer.did;
    this.#keystore = options.keystore;
    const now = options.now ?? Date.now;
    this.hlc = new HybridClock(now);
    this.libp2p = libp2p;
    const stopped = () => this.#stopped;
    this.#share = new SharePolicy({ repo: () => this.repo, stopped });
    this.#storage = new RepoStorage(options.storage, stopped);
    this.repo = new Repo({
      peerId: (libp2p?.peerId.toString() ?? this.did) as PeerId,
      storage: this.#storage,
      network: [],
      isEphemeral: options.isEphemeral ?? false,
      shareConfig: this.#share.shareConfig,
    });
    scopePeerWalks(this.repo, (peer) => this.#share.documentsFor(peer));
    this.#ctx = {
      did: this.did,
      signer: this.signer,
      repo: this.repo,
      diagnostics: this.diagnostics,
      now,
      verifier: options.verifier,
      spaces: this.#spaces,
      adapters: this.#adapters,
      stopped,
      deps: () => this.#deps(),
    };
    this.#records = new NodeRecords(options.storage);
    this.#changes = new AuthorityChanges(this.#ctx, this.#share);
    this.#gossip = new NodeGossip(this.#ctx, this.#share);
    this.#blobs = new BlobHops(this.#ctx);
    this.#joining = new Joining(this.#ctx, this.#share, (space, chain) => this.#adopt(space, chain));
    const relay = options.carrier
      ? new RelayMode(this.#ctx, {
        only: options.carrierSpaces,
        registerDocument: (doc, space) => this.#share.registerDocument(doc, space),
        hosted: async (space, url) => {
          this.#spaces.set(space.id, space);
          this.#gossip.start(space);
          await space.flush();
          await this.#records.save(space.id, { url, tokens: [] });
          this.#changes.changed(space.id);
        },
      })
      : undefined;
    this.authority = nodeSyncAuthority(this.#ctx, {
      joining: this.#joining,
      share: this.#share,
      changes: this.#changes,
      relay,
    });
  }

  static async create(options: NodeOptions): Promise<WeftNode> {
    // automerge-repo races itself creating the storage id on fresh storage; settle it first.
    const storage = options.storage ?? new MemoryStorageAdapter();
    if (!(await storage.load(["storage-adapter-id"]))) {
      await storage.save(["storage-adapter-id"], new TextEncoder().encode(crypto.randomUUID()));
    }
    // Loaded only when asked for, so a browser bundle without libp2p does not carry it.
    const libp2p = options.libp2p ? await (await import("./libp2p.ts")).createWeftLibp2p(options.libp2p) : undefined;
    const node = new WeftNode({ ...options, storage }, libp2p);
    await node.repo.storageId();
    if (libp2p) {
      const { Libp2pNetworkAdapter } = await import("../sync/libp2p-adapter.ts");
      node.addNetwork((o) => new Libp2pNetworkAdapter({ ...o, libp2p }));
    }
    await node.#records.restore(node.#ctx, node.#joining, (space) => {
      node.#spaces.set(space.id, space);
      node.#gossip.start(space);
      node.#changes.changed(space.id);
    });
    return node;
  }

  /** What sync transports need from this node. */
  get sessionOptions(): SessionAdapterOptions {
    return {
      did: this.did,
      authority: this.authority,
      diagnostics: this.diagnostics,
      onGossip: (session, space, channel, bytes) => this.#gossip.receive(session, space, channel, bytes),
      blobs: (cid, hops, from) => this.#blobs.answer(cid, hops, from),
      logs: (space, task, follow, signal) => this.localLog(space, task, follow, signal),
      onAccessChanged: () => this.#share.changed(),
      onPull: (session, space) => this.#gossip.catchUp(session, space),
    };
  }

  /**
   * Serve the logs of runs on this node to members who ask (a scheduler's
   * runs; a node may hold more than one: its own and a bridge's). Returns
   * the withdrawal.
   */
  serveLogs(logs: NonNullable<SessionAdapterOptions["logs"]>): () => void {
    this.#logs.add(logs);
    return () => this.#logs.delete(logs);
  }

  /** The log of a run on this node, from whichever scheduler here has it. */
  localLog(
    space: string,
    task: string,
    follow: boolean,
    signal: AbortSignal,
  ): ReturnType<NonNullable<SessionAdapterOptions["logs"]>> {
    for (const source of this.#logs) {
      const found = source(space, task, follow, signal);
      if (found) return found;
    }
    return undefined;
  }

  /** The session to a connected node, by its DID. */
  sessionTo(did: string): SyncSession | undefined {
    return sessionsOf(this.#ctx).find((s) => s.remoteDid === did);
  }

  /**
   * Whether the connected node `did` has proved, on a live authenticated
   * session, that it may sync `space` (and has not since been revoked or
   * lapsed): the gate for anything of the space sent to it outside the
   * sessions themselves (git objects). Keyed by the DID each session
   * authenticated, not by a peer id the remote merely claims.
   */
  provedSpace(did: string, space: string): boolean {
    return sessionsOf(this.#ctx).some((s) => s.ready && s.remoteDid === did && s.spaces.has(space));
  }

  /** The DIDs of connected nodes that proved `space` on a live session (see `provedSpace`). */
  membersConnected(space: string): string[] {
    return [
      ...new Set(sessionsOf(this.#ctx).filter((s) => s.ready && s.spaces.has(space)).map((s) => s.remoteDid)),
    ].filter((d): d is string => d !== undefined);
  }

  /** Serve blobs from `store` to peers this node shares a space with (runner inputs and outputs). */
  serveBlobs(store: ContentStore): void {
    this.#blobs.serve(store);
  }

  /**
   * Fetch a blob by CID (raw or dag-json, sha2-256) from the peers connected right now,
   * checking the bytes match; undefined if none has it.
   */
  fetchBlob(cid: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.#blobs.fetch(cid, signal);
  }

  /** Add a sync transport (in-process channels, a WebSocket client or server…). */
  addNetwork<A extends SessionNetworkAdapter>(make: (options: SessionAdapterOptions) => A): A {
    const adapter = make(this.sessionOptions);
    adapter.onShared((session, spaces) => {
      void this.#joining.fetchShared(spaces);
      for (const space of spaces) this.#gossip.catchUp(session, space);
    });
    this.#adapters.push(adapter);
    this.#share.addAccess(adapter);
    this.repo.networkSubsystem.addNetworkAdapter(adapter as NetworkAdapterInterface);
    return adapter;
  }

  /**
   * Serve stock automerge-repo WebSocket clients (the token is checked by
   * the caller); their sockets are re-checked when a space's revocations change.
   */
  addStockWebSocket(): StockWebSocketAdapter {
    const adapter = new StockWebSocketAdapter({
      diagnostics: this.diagnostics,
      spaceOf: (d) => this.#share.spaceOf(d),
    });
    this.#changes.onChange((space) => void adapter.recheck(space));
    this.#share.addAccess(adapter);
    this.repo.networkSubsystem.addNetworkAdapter(adapter);
    return adapter;
  }

  /** The gossip of a space this node holds. */
  gossip(spaceId: string): SpaceGossip | undefined {
    return this.#gossip.get(spaceId);
  }

  #deps(): SpaceDeps {
    return {
      repo: this.repo,
      signer: this.signer,
      diagnostics: this.diagnostics,
      hlc: this.hlc,
      now: this.#ctx.now,
      verifier: this.#ctx.verifier,
      registerDocument: (doc, space) => this.#share.registerDocument(doc, space),
      authorityChanged: (id) => this.#changes.changed(id),
      wrote: (space, _kind, op) => {
        // Jobs and lease operations go out on gossip too, ahead of the documents: placed and settled within one hop.
        if (travelsOnLeases(op.cmd, op.args)) this.#gossip.get(space.id)?.publishLease(op.bytes);
      },
      changed: (space) => this.#gossip.scheduleHeads(space),
    };
  }

  // ---- spaces ----

  spaces(): Space[] {
    return [...this.#spaces.values()];
  }

  space(id: string): Space | undefined {
    return this.#spaces.get(id) ?? [...this.#spaces.values()].find((s) => s.name === id);
  }

  /** Create a space: a new root key (kept in the keystore) that delegates everything to this node. */
  async createSpace(
    name: string,
    options: { buckets?: number; graceSeconds?: number; deviceName?: string } = {},
  ): Promise<Space> {
    const root = await this.#keystore.create(`space-${crypto.randomUUID().slice(0, 8)}`);
    const space = await Space.create(this.#deps(), { root, name, ...options });
    await this.#adopt(space, []);
    return space;
  }

  /**
   * Invite someone: an addressed invite for a known DID, or (no audience)
   * a link invite carrying a one-time key. Returns the invite text.
   */
  invite(spaceId: string, options: InviteOptions = {}): Promise<string> {
    return inviteText(this.#require(spaceId), options);
  }

  /**
   * Join a space with an invite. Resolves once the space document has been
   * fetched from a peer that accepted this node's proof of membership, so
   * dial a member first (or after: joining waits for one, until `signal`).
   */
  async join(text: string | Invite, options: { signal?: AbortSignal; name?: string } = {}): Promise<Space> {
    const invite = typeof text === "string" ? decodeInvite(text) : text;
    const existing = this.#spaces.get(invite.space);
    if (existing) return existing;
    const chain = await memberChain(invite, this.did, options.name);
    this.#joining.start(invite, chain);
    await this.#records.save(invite.space, { url: invite.url, tokens: chain.map((d) => d.bytes) });
    this.#changes.changed(invite.space);
    return await this.#joining.wait(invite.space, options.signal);
  }

  /** Make a space created or fetched here one of this node's, durably, and tell everyone concerned. */
  async #adopt(space: Space, chain: Delegation[]): Promise<void> {
    this.#spaces.set(space.id, space);
    this.#gossip.start(space);
    this.#joining.drop(space.id);
    if (chain.length > 0) await space.addDelegations(chain);
    // The record says "open this space from storage" on restart: its documents must be there first.
    await space.flush();
    await this.#records.save(space.id, { url: space.url, tokens: [] });
    this.#changes.changed(space.id);
    this.#joining.arrived(space);
  }

  #require(id: string): Space {
    const s = this.space(id);
    if (!s) throw new WeftError("NotFound", "not-found", `this node is not in a space ${id}`);
    return s;
  }

  // ---- lifecycle ----

  /** Flush everything to storage and stop networking. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#gossip.stop();
    this.#changes.stop();
    for (const space of this.#spaces.values()) space.log.stop();
    const ready = Object.values(this.repo.handles).filter((h) => h.isReady()).map((h) => h.documentId);
    await this.repo.flush(ready);
    for (const a of this.#adapters) a.disconnect();
    for (const a of this.#share.access) if (a instanceof StockWebSocketAdapter) a.disconnect();
    // Repo.shutdown flushes every handle and throws on ones still loading; ours are flushed above.
    await this.repo.shutdown().catch(() => {});
    // Let writes the repo still has in flight land before the shell closes the storage.
    await this.#storage.settle();
    if (this.libp2p) await (await import("./libp2p.ts")).stopWeftLibp2p(this.libp2p);
  }
}

export function createNode(options: NodeOptions): Promise<WeftNode> {
  return WeftNode.create(options);
}
