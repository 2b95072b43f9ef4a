/**
 * `createNode`: every Weft node — headless peer, browser tab, edge relay —
 * is one of these. It wires an automerge-repo Repo (with the storage the
 * shell injects) to libp2p (with the transports the shell injects) through
 * authenticated sync sessions, and holds the spaces this node is in.
 *
 * What a node remembers about itself (which spaces it joined, and with what
 * chain) is stored under its own key in the same storage, never synced.
 */
import {
  type AutomergeUrl,
  type DocumentId,
  type NetworkAdapterInterface,
  type PeerId,
  Repo,
  type StorageAdapterInterface,
} from "@automerge/automerge-repo";
import * as cborg from "cborg";
import { Diagnostics } from "../diagnostics.ts";
import { isWeftError, WeftError } from "../errors.ts";
import type { Keystore } from "../identity/keystore.ts";
import type { Signer, Verifier } from "../identity/ed25519.ts";
import { signerFromSeed } from "../identity/ed25519.ts";
import { decodeDelegation, delegate, type Delegation } from "../ucan/delegation.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import { HybridClock } from "../tasks/hlc.ts";
import { MemoryStorageAdapter } from "../storage/memory-storage.ts";
import type { SyncAuthority } from "../sync/authority.ts";
import type { SessionAdapterOptions, SessionNetworkAdapter } from "../sync/session-adapter.ts";
import type { PeerAccess } from "../sync/peer-access.ts";
import type { SyncSession } from "../sync/session.ts";
import { StockWebSocketAdapter } from "../sync/stock-websocket-adapter.ts";
import { MAX_BLOB_HOPS } from "../sync/frames.ts";
import { decodeInvite, encodeInvite, type Invite } from "../space/invite.ts";
import { Space, type SpaceDeps } from "../space/space.ts";
import { proveSync, verifySync } from "../space/sync-proof.ts";
import { chainExpiry, standingOf } from "../space/standing.ts";
import { type GossipTransport, SpaceGossip } from "../space/gossip.ts";
import type { ContentStore } from "../runner/runner.ts";
import { blobFromMesh, mayServe, parseBlobCid } from "./blobs.ts";
import { Commands } from "../ucan/commands.ts";
import { MemoryProofStore } from "../ucan/stores.ts";
import { Validator } from "../ucan/validator.ts";
import type { Libp2pConfig, WeftLibp2p } from "./libp2p.ts";

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

interface SpaceRecord {
  url: string;
  /** The chain this node joined with, root first, until the space document has it. */
  tokens: Uint8Array[];
}

const NODE_KEY = ["weft-node", "spaces"];
/** The longest a timer can wait; a later lapse is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a node looks among its own peers for a blob another peer asked it for. */
const BLOB_HOP_TIMEOUT_MS = 10_000;

export class WeftNode {
  readonly did: string;
  readonly signer: Signer;
  readonly repo: Repo;
  readonly diagnostics = new Diagnostics();
  readonly hlc: HybridClock;
  readonly libp2p?: WeftLibp2p;
  readonly #storage: StorageAdapterInterface;
  readonly #keystore: Keystore;
  readonly #now: () => number;
  readonly #verifier?: Verifier;
  readonly #spaces = new Map<string, Space>();
  /**
   * Spaces joined but not yet fetched: the chain to prove membership, and a
   * validator (knowing only the root DID) to check peers that serve it.
   */
  readonly #joining = new Map<string, { invite: Invite; chain: Delegation[]; validator: Validator }>();
  readonly #records = new Map<string, SpaceRecord>();
  readonly #docSpace = new Map<string, string>();
  readonly #authorityListeners = new Set<(space: string) => void>();
  readonly #adapters: SessionNetworkAdapter[] = [];
  /** Every transport that grants peers access to spaces. */
  readonly #access: PeerAccess[] = [];
  readonly #gossip = new Map<string, SpaceGossip>();
  readonly #headsTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Per space: fires when its next delegation lapses. */
  readonly #lapseTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly authority: SyncAuthority;
  readonly #carrier: boolean;
  readonly #carrierSpaces?: ReadonlySet<string>;
  #stopped = false;

  private constructor(options: NodeOptions, libp2p: WeftLibp2p | undefined) {
    this.signer = options.signer;
    this.did = options.signer.did;
    this.#storage = options.storage ?? new MemoryStorageAdapter();
    this.#keystore = options.keystore;
    this.#now = options.now ?? Date.now;
    this.#verifier = options.verifier;
    this.#carrier = options.carrier ?? false;
    if (options.carrierSpaces) this.#carrierSpaces = new Set(options.carrierSpaces);
    this.hlc = new HybridClock(this.#now);
    this.libp2p = libp2p;
    this.authority = this.#syncAuthority();
    this.repo = new Repo({
      peerId: (libp2p?.peerId.toString() ?? this.did) as PeerId,
      storage: this.#repoStorage(),
      network: [],
      isEphemeral: options.isEphemeral ?? false,
      shareConfig: {
        announce: (peer, doc) => Promise.resolve(doc !== undefined && this.#mayShare(peer, doc, true)),
        access: (peer, doc) => Promise.resolve(this.#mayShare(peer, doc, false)),
      },
    });
  }

  /**
   * The storage as the Repo sees it. automerge-repo keeps a throttled
   * sync-state save running past shutdown; sync state is a cache, so once
   * this node has stopped such late saves are dropped instead of hitting
   * storage the shell may already have closed.
   */
  #repoStorage(): StorageAdapterInterface {
    const storage = this.#storage;
    const track = <T>(p: Promise<T>): Promise<T> => {
      this.#storageOps.add(p);
      const done = () => this.#storageOps.delete(p);
      p.then(done, done);
      return p;
    };
    return {
      load: (key) => storage.load(key),
      save: (key, data) =>
        this.#stopped && key[1] === "sync-state" ? Promise.resolve() : track(storage.save(key, data)),
      remove: (key) => track(storage.remove(key)),
      loadRange: (prefix) => storage.loadRange(prefix),
      removeRange: (prefix) => track(storage.removeRange(prefix)),
    };
  }

  /** Storage writes automerge-repo has started and not finished (compaction runs after flushes). */
  readonly #storageOps = new Set<Promise<unknown>>();

  static async create(options: NodeOptions): Promise<WeftNode> {
    // automerge-repo races itself creating the storage id on fresh storage; settle it first.
    const storage = options.storage ?? new MemoryStorageAdapter();
    if (!(await storage.load(["storage-adapter-id"]))) {
      await storage.save(["storage-adapter-id"], new TextEncoder().encode(crypto.randomUUID()));
    }
    options = { ...options, storage };
    // Loaded only when asked for, so a browser bundle without libp2p does not carry it.
    const libp2p = options.libp2p ? await (await import("./libp2p.ts")).createWeftLibp2p(options.libp2p) : undefined;
    const node = new WeftNode(options, libp2p);
    await node.repo.storageId();
    if (libp2p) {
      const { Libp2pNetworkAdapter } = await import("../sync/libp2p-adapter.ts");
      node.addNetwork((o) => new Libp2pNetworkAdapter({ ...o, libp2p }));
    }
    await node.#restore();
    return node;
  }

  /** What sync transports need from this node. */
  get sessionOptions(): SessionAdapterOptions {
    return {
      did: this.did,
      authority: this.authority,
      diagnostics: this.diagnostics,
      onGossip: (session, space, channel, bytes) => void this.#gossip.get(space)?.receive(channel, bytes, session),
      blobs: async (cid, hops, from) => {
        const bytes = (await this.#blobs?.get(cid)) ??
          (hops > 0 ? await this.#fetchBlob(cid, AbortSignal.timeout(BLOB_HOP_TIMEOUT_MS), hops - 1, from) : undefined);
        return bytes && mayServe(parseBlobCid(cid), bytes, from.spaces) ? bytes : undefined;
      },
      logs: (space, task, follow, signal) => this.#logs?.(space, task, follow, signal),
      onAccessChanged: () => this.#shareChanged(),
      onPull: (session, space) => this.#catchUp(session, space),
    };
  }

  /**
   * Catch a remote up on who offers what in a space, rather than leave it to
   * wait for each node's next advert. Sent when the space becomes shared
   * with it, and again when it asks (it may only start gossip for a space
   * it is joining once its documents are here).
   */
  #catchUp(session: SyncSession, space: string): void {
    for (const bytes of this.#gossip.get(space)?.advertBytes() ?? []) session.sendGossip(space, "capacity", bytes);
  }

  #sharePending = false;

  /**
   * Who may see which documents changed: have the repo start and stop
   * syncing accordingly. automerge-repo re-checks every document against
   * every peer for this, so a burst of changes is re-checked once.
   */
  #shareChanged(): void {
    if (this.#sharePending) return;
    this.#sharePending = true;
    setTimeout(() => {
      this.#sharePending = false;
      if (!this.#stopped) this.repo.shareConfigChanged();
    }, 0);
  }

  #blobs?: ContentStore;
  #logs?: SessionAdapterOptions["logs"];

  /** Serve the logs of runs on this node to members who ask (the scheduler's runs). */
  serveLogs(logs: NonNullable<SessionAdapterOptions["logs"]>): void {
    this.#logs = logs;
  }

  /** The session to a connected node, by its DID. */
  sessionTo(did: string): SyncSession | undefined {
    for (const a of this.#adapters) for (const s of a.sessions.values()) if (s.remoteDid === did) return s;
    return undefined;
  }

  /** Serve blobs from `store` to peers this node shares a space with (runner inputs and outputs). */
  serveBlobs(store: ContentStore): void {
    this.#blobs = store;
  }

  /**
   * Fetch a blob by CID (raw or dag-json, sha2-256) from the peers connected right now,
   * checking the bytes match; undefined if none has it.
   */
  fetchBlob(cid: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.#fetchBlob(cid, signal, MAX_BLOB_HOPS - 1);
  }

  #fetchBlob(cid: string, signal: AbortSignal | undefined, hops: number, except?: unknown) {
    const sessions = this.#adapters.flatMap((a) => [...a.sessions.values()]).filter((s) => s !== except);
    return blobFromMesh(sessions, cid, signal, hops);
  }

  /** Add a sync transport (in-process channels, a WebSocket client or server…). */
  addNetwork<A extends SessionNetworkAdapter>(make: (options: SessionAdapterOptions) => A): A {
    const adapter = make(this.sessionOptions);
    adapter.onShared((session, spaces) => {
      void this.#fetchShared(spaces);
      for (const space of spaces) this.#catchUp(session, space);
    });
    this.#adapters.push(adapter);
    this.#access.push(adapter);
    this.repo.networkSubsystem.addNetworkAdapter(adapter as NetworkAdapterInterface);
    return adapter;
  }

  /**
   * Serve stock automerge-repo WebSocket clients (the token is checked by
   * the caller); their sockets are re-checked when a space's revocations change.
   */
  addStockWebSocket(): StockWebSocketAdapter {
    const adapter = new StockWebSocketAdapter({ diagnostics: this.diagnostics, spaceOf: (d) => this.#docSpace.get(d) });
    this.#authorityListeners.add((space) => void adapter.recheck(space));
    this.#access.push(adapter);
    this.repo.networkSubsystem.addNetworkAdapter(adapter);
    return adapter;
  }

  /**
   * The remote repo peer may see this document: it proved membership of the
   * document's space. `offer`: whether to send it unasked, which only peers
   * that keep whole spaces get.
   */
  #mayShare(peer: PeerId, documentId: string, offer: boolean): boolean {
    const space = this.#docSpace.get(documentId);
    if (space === undefined) return false;
    return this.#access.some((a) => (!offer || a.offersWholeSpaces) && (a.spacesOf(peer)?.has(space) ?? false));
  }

  #syncAuthority(): SyncAuthority {
    return {
      prove: async (challenge, remoteDid) => {
        const out: Array<{ space: string; proof: Uint8Array }> = [];
        const nowSec = Math.floor(this.#now() / 1000);
        for (const space of this.#spaces.values()) {
          const [chain] = space.authority.chainsFor(this.did, Commands.spaceSync, nowSec);
          if (chain) {
            out.push({
              space: space.id,
              proof: await proveSync(this.signer, space.id, space.url, chain, challenge, remoteDid),
            });
          }
        }
        for (const [id, j] of this.#joining) {
          if (!this.#spaces.has(id)) {
            out.push({
              space: id,
              proof: await proveSync(this.signer, id, j.invite.url, j.chain, challenge, remoteDid),
            });
          }
        }
        return out;
      },
      offers: (id) => {
        const space = this.#spaces.get(id);
        if (!space) return this.#joining.has(id);
        return space.authority.chainsFor(this.did, Commands.spaceSync, Math.floor(this.#now() / 1000)).length > 0;
      },
      verify: async (proof, challenge, localDid, remoteDid) => {
        const { space, chain, doc } = await verifySync(
          proof,
          { challenge, localDid, remoteDid },
          (id) =>
            this.#spaces.get(id)?.authority.validator ?? this.#joining.get(id)?.validator ??
              (this.#carrier && (this.#carrierSpaces?.has(id) ?? true) ? this.#rootValidator() : undefined),
        );
        if (this.#carrier) {
          if (!this.#spaces.has(space) && doc) void this.#host(space, doc);
        } else {
          // Keep the member's chain, so its operations verify here too.
          await this.#spaces.get(space)?.addDelegations(chain);
        }
        const expiry = chainExpiry(chain);
        // Valid through its `exp` second: re-checked just after it.
        return { space, lapsesInMs: expiry === null ? null : (expiry + 1) * 1000 - this.#now() };
      },
      revocationsOf: (id, remoteDid) => {
        const space = this.#spaces.get(id);
        if (!space) return [];
        const standing = standingOf(space.authority, remoteDid, Commands.spaceSync, this.#now());
        return standing.state === "revoked" ? standing.records : [];
      },
      learnRevocations: async (id, records, from) => {
        const space = this.#spaces.get(id);
        if (!space) return;
        for (const bytes of records) {
          try {
            await space.recordRevocation(bytes);
          } catch (e) {
            this.diagnostics.refuse({
              kind: "sync",
              from,
              what: "revoked",
              code: isWeftError(e) ? e.code : "sync/revocation",
              reason: (e as Error).message,
              space: id,
            });
          }
        }
      },
      spaceOf: (documentId) => this.#docSpace.get(documentId),
      onChange: (listener) => {
        this.#authorityListeners.add(listener);
        return () => this.#authorityListeners.delete(listener);
      },
    };
  }

  /** Space `id` was added here, or its members or revocations changed, or one of its delegations lapsed. */
  #authorityChanged(id: string): void {
    for (const l of this.#authorityListeners) l(id);
    this.#shareChanged();
    this.#watchLapse(id);
  }

  /**
   * When the space's next delegation lapses, treat it as an authority change:
   * sessions re-check, this node stops offering a space it no longer holds,
   * and stock clients resting on it are re-checked.
   */
  #watchLapse(id: string): void {
    clearTimeout(this.#lapseTimers.get(id));
    this.#lapseTimers.delete(id);
    const space = this.#spaces.get(id);
    if (!space || this.#stopped) return;
    const nowSec = Math.floor(this.#now() / 1000);
    let next: number | undefined;
    for (const d of space.authority.delegations) {
      if (d.exp !== null && d.exp >= nowSec && (next === undefined || d.exp < next)) next = d.exp;
    }
    if (next === undefined) return;
    // Valid through its `exp` second: changed just after it.
    const inMs = Math.min((next + 1) * 1000 - this.#now(), MAX_TIMER_MS);
    this.#lapseTimers.set(id, setTimeout(() => this.#authorityChanged(id), Math.max(inMs, 0)));
  }

  #deps(): SpaceDeps {
    return {
      repo: this.repo,
      signer: this.signer,
      diagnostics: this.diagnostics,
      hlc: this.hlc,
      now: this.#now,
      verifier: this.#verifier,
      registerDocument: (doc, space) => {
        this.#docSpace.set(doc, space);
      },
      authorityChanged: (id) => this.#authorityChanged(id),
      wrote: (space, kind, bytes) => {
        if (kind === "renew") this.#gossip.get(space.id)?.publishLease(bytes);
      },
      changed: (space) => this.#scheduleHeads(space),
    };
  }

  /** The gossip of a space this node holds. */
  gossip(spaceId: string): SpaceGossip | undefined {
    return this.#gossip.get(spaceId);
  }

  /**
   * A space's gossip travels only over sync sessions, and a session sends a
   * space's gossip only to a remote that proved it may sync that space: so
   * no adverts, heads or lease renewals ever reach a peer that is not a
   * member (or a relay carrying the space for its members).
   */
  #sessionGossip(space: string): GossipTransport {
    return {
      send: (channel, bytes, from) => {
        for (const adapter of this.#adapters) {
          if (channel === "heads" && !adapter.carriesHeads) continue;
          for (const session of adapter.sessions.values()) {
            if (session !== from) session.sendGossip(space, channel, bytes);
          }
        }
      },
    };
  }

  #startGossip(space: Space): void {
    if (this.#gossip.has(space.id)) return;
    const g = new SpaceGossip({
      space,
      signer: this.signer,
      diagnostics: this.diagnostics,
      now: this.#now,
      onHeads: (doc, heads) => {
        if (this.#docSpace.get(doc) !== space.id) return;
        const handle = this.repo.handles[doc as DocumentId];
        const known = handle?.isReady() ? new Set(handle.heads() as string[]) : new Set<string>();
        if (!heads.every((h) => known.has(h))) void this.repo.find(doc as DocumentId).catch(() => {});
      },
    });
    g.addTransport(this.#sessionGossip(space.id));
    this.#gossip.set(space.id, g);
    for (const a of this.#adapters) for (const session of a.sessions.values()) session.pullGossip(space.id);
  }

  /** Announce a space's heads on gossip, at most every 250 ms. */
  #scheduleHeads(space: Space): void {
    const g = this.#gossip.get(space.id);
    if (!g || this.#headsTimers.has(space.id)) return;
    this.#headsTimers.set(
      space.id,
      setTimeout(() => {
        this.#headsTimers.delete(space.id);
        const heads: Record<string, string[]> = {};
        for (const id of space.documentIds) {
          const h = this.repo.handles[id];
          if (h?.isReady()) heads[id] = h.heads() as string[];
        }
        void g.announceHeads(heads).catch(() => {});
      }, 250),
    );
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
  async invite(
    spaceId: string,
    options: {
      audience?: string;
      command?: string;
      policy?: Ipld[];
      expiration?: number | null;
      name?: string;
      peers?: string[];
    } = {},
  ): Promise<string> {
    const space = this.#require(spaceId);
    let seed: Uint8Array | undefined;
    let audience = options.audience;
    if (audience === undefined) {
      seed = crypto.getRandomValues(new Uint8Array(32));
      audience = (await signerFromSeed(seed)).did;
    }
    const { chain } = await space.invite({
      audience,
      command: options.command,
      policy: options.policy,
      expiration: options.expiration,
      name: options.name ?? (seed ? "invite link" : undefined),
    });
    return encodeInvite({
      space: space.id,
      url: space.url,
      tokens: chain.map((d) => d.bytes),
      ...(seed ? { seed } : {}),
      ...(options.peers ? { peers: options.peers } : {}),
    });
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
    let chain = invite.tokens.map((t) => decodeDelegation(t));
    if (invite.seed) {
      // A link invite: the one-time key passes its authority on to this node.
      const inviteKey = await signerFromSeed(invite.seed);
      const last = chain[chain.length - 1];
      if (last.aud !== inviteKey.did) {
        throw new WeftError("InvalidInvite", "invite/invalid", "the invite key does not match");
      }
      const toMe = await delegate({
        issuer: inviteKey,
        audience: this.did,
        subject: invite.space,
        command: last.cmd,
        expiration: last.exp,
        meta: { kind: "member", ...(options.name ? { name: options.name } : {}) },
      });
      chain = [...chain, toMe];
    } else if (chain[chain.length - 1].aud !== this.did) {
      throw new WeftError(
        "InvalidInvite",
        "invite/invalid",
        `this invite is for ${chain[chain.length - 1].aud}, not this node`,
      );
    }
    this.#startJoining(invite, chain);
    await this.#saveRecord(invite.space, { url: invite.url, tokens: chain.map((d) => d.bytes) });
    this.#authorityChanged(invite.space);
    return await this.#waitForSpace(invite.space, options.signal);
  }

  /** A validator that knows nothing but what a proof carries: its chain must start at the space's root. */
  #rootValidator(): Validator {
    return new Validator({
      proofs: new MemoryProofStore(),
      verifier: this.#verifier,
      clock: () => Math.floor(this.#now() / 1000),
    });
  }

  readonly #hosting = new Set<string>();

  /** As a relay: fetch a space's documents from the member who proved it, and carry them from now on. */
  async #host(id: string, url: string): Promise<void> {
    if (this.#hosting.has(id) || this.#spaces.has(id)) return;
    this.#hosting.add(id);
    // Let the session send its authz first, so the member knows to serve us before we ask.
    await new Promise((r) => setTimeout(r, 0));
    this.#docSpace.set(url.replace(/^automerge:/, ""), id);
    try {
      const space = await Space.open(this.#deps(), url as AutomergeUrl, { signal: AbortSignal.timeout(30_000) });
      if (space.id !== id) throw new WeftError("InvalidSpace", "space/invalid", `${url} is not the document of ${id}`);
      this.#spaces.set(id, space);
      this.#startGossip(space);
      await space.flush();
      await this.#saveRecord(id, { url, tokens: [] });
      this.#authorityChanged(id);
    } catch (e) {
      this.diagnostics.refuse({ kind: "sync", what: `space ${id}`, code: "space/host-failed", reason: String(e) });
    } finally {
      this.#hosting.delete(id);
    }
  }

  #startJoining(invite: Invite, chain: Delegation[]): void {
    const validator = new Validator({
      proofs: new MemoryProofStore(),
      verifier: this.#verifier,
      clock: () => Math.floor(this.#now() / 1000),
    });
    this.#joining.set(invite.space, { invite, chain, validator });
    this.#docSpace.set(invite.url.replace(/^automerge:/, ""), invite.space);
  }

  readonly #spaceWaiters = new Map<string, Array<(s: Space) => void>>();

  #waitForSpace(id: string, signal?: AbortSignal): Promise<Space> {
    const ready = this.#spaces.get(id);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const list = this.#spaceWaiters.get(id) ?? [];
      list.push(resolve);
      this.#spaceWaiters.set(id, list);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      void this.#fetchShared([id]);
    });
  }

  /** A peer shares these spaces with us now: fetch any we joined but do not have yet. */
  async #fetchShared(spaces: readonly string[]): Promise<void> {
    for (const id of spaces) {
      const j = this.#joining.get(id);
      if (!j || this.#spaces.has(id) || this.#fetching.has(id)) continue;
      const shared = this.#adapters.some((a) => [...a.sessions.values()].some((s) => s.shared.has(id)));
      if (!shared) continue;
      this.#fetching.add(id);
      try {
        const space = await Space.open(this.#deps(), j.invite.url as AutomergeUrl, {
          signal: AbortSignal.timeout(30_000),
        });
        await this.#adopt(space, j.chain);
      } catch (e) {
        this.diagnostics.refuse({ kind: "sync", what: `space ${id}`, code: "space/fetch-failed", reason: String(e) });
      } finally {
        this.#fetching.delete(id);
      }
    }
  }

  readonly #fetching = new Set<string>();

  async #adopt(space: Space, chain: Delegation[]): Promise<void> {
    this.#spaces.set(space.id, space);
    this.#startGossip(space);
    this.#joining.delete(space.id);
    if (chain.length > 0) await space.addDelegations(chain);
    // The record says "open this space from storage" on restart: its documents must be there first.
    await space.flush();
    await this.#saveRecord(space.id, { url: space.url, tokens: [] });
    this.#authorityChanged(space.id);
    for (const resolve of this.#spaceWaiters.get(space.id) ?? []) resolve(space);
    this.#spaceWaiters.delete(space.id);
  }

  #require(id: string): Space {
    const s = this.space(id);
    if (!s) throw new WeftError("NotFound", "not-found", `this node is not in a space ${id}`);
    return s;
  }

  // ---- persistence of this node's own record ----

  async #saveRecord(space: string, record: SpaceRecord): Promise<void> {
    this.#records.set(space, record);
    const body = Object.fromEntries(this.#records);
    await this.#storage.save(NODE_KEY, cborg.encode(body));
  }

  async #restore(): Promise<void> {
    const bytes = await this.#storage.load(NODE_KEY);
    if (!bytes) return;
    const records = cborg.decode(bytes) as Record<string, SpaceRecord>;
    for (const [id, record] of Object.entries(records)) {
      this.#records.set(id, record);
      if (record.tokens.length > 0) {
        const chain = record.tokens.map((t) => decodeDelegation(t));
        this.#startJoining({ space: id, url: record.url, tokens: record.tokens }, chain);
        continue;
      }
      try {
        const space = await Space.open(this.#deps(), record.url as AutomergeUrl, {
          signal: AbortSignal.timeout(30_000),
        });
        this.#spaces.set(space.id, space);
        this.#startGossip(space);
        this.#authorityChanged(space.id);
      } catch (e) {
        this.diagnostics.refuse({ kind: "sync", what: `space ${id}`, code: "space/load-failed", reason: String(e) });
      }
    }
  }

  // ---- lifecycle ----

  /** Flush everything to storage and stop networking. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#headsTimers.values()) clearTimeout(t);
    for (const t of this.#lapseTimers.values()) clearTimeout(t);
    for (const g of this.#gossip.values()) g.stop();
    const ready = Object.values(this.repo.handles).filter((h) => h.isReady()).map((h) => h.documentId);
    await this.repo.flush(ready);
    for (const a of this.#adapters) a.disconnect();
    for (const a of this.#access) if (a instanceof StockWebSocketAdapter) a.disconnect();
    // Repo.shutdown flushes every handle and throws on ones still loading; ours are flushed above.
    await this.repo.shutdown().catch(() => {});
    // Let writes the repo still has in flight land before the shell closes the storage.
    for (let i = 0; i < 10 && this.#storageOps.size > 0; i++) await Promise.allSettled([...this.#storageOps]);
    if (this.libp2p) await (await import("./libp2p.ts")).stopWeftLibp2p(this.libp2p);
  }
}

export function createNode(options: NodeOptions): Promise<WeftNode> {
  return WeftNode.create(options);
}
