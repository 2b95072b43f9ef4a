/**
 * The browser as a full Weft node: `createNode` without libp2p, with
 *  - identity: a non-extractable Ed25519 CryptoKey in IndexedDB (keystore.ts),
 *  - storage: automerge-repo's IndexedDB adapter (every space and task seen
 *    here stays here, usable offline),
 *  - network: the Weft session protocol over WebSockets to the peers and
 *    relays in settings, reconnecting by itself, and at once when the
 *    browser comes back online.
 * Writes go through this node, signed with its own key; nothing here
 * trusts a peer's word.
 */
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { WeftError } from "#protocol";
import { createNode, type WeftNode } from "#protocol/node";
import { loadOrCreate, type RememberingVerifier } from "#protocol/identity";
import { decodeInvite, type Space } from "#protocol/space";
import { WebSocketNetworkAdapter } from "#protocol/sync";
import { CapacityLog } from "../model/capacity.ts";
import type { WeftDb } from "./db.ts";
import { browserKeystore } from "./keystore.ts";
import { CapacityOffer } from "./offer.ts";
import { servingPeer, syncUrl } from "./peer-url.ts";
import { askPersistence } from "./persist.ts";
import { loadSettings, type PeerSetting, saveSetting, type Settings } from "./settings.ts";

/** IndexedDB database and store of the automerge documents. */
export const DOCUMENTS_DB = "weft-documents";

export class BrowserNode {
  readonly node: WeftNode;
  readonly ws: WebSocketNetworkAdapter;
  readonly db: WeftDb;
  readonly capacity: CapacityLog;
  /** This tab's capacity for WASM jobs, when the user offers it. */
  readonly offer: CapacityOffer;
  /** The node's verifier, remembering what this device verified (kept by keep-snapshot.ts, see verified-store.ts). */
  readonly verified: RememberingVerifier;
  /** When a sync session with each remote DID was last up (this run). */
  readonly sessionSeen = new Map<string, number>();
  #settings: Settings;
  readonly #listeners = new Set<() => void>();

  private constructor(
    node: WeftNode,
    ws: WebSocketNetworkAdapter,
    db: WeftDb,
    settings: Settings,
    verified: RememberingVerifier,
  ) {
    this.node = node;
    this.verified = verified;
    this.ws = ws;
    this.db = db;
    this.#settings = settings;
    this.capacity = new CapacityLog(node);
    this.offer = new CapacityOffer(node, db);
    this.offer.subscribe(() => this.#changed());
    node.authority.onChange(() => void this.#settleJoins());
    // Sessions come and go: remember who was there, and tell the UI.
    const remotes = new Map<string, string>();
    ws.on("peer-candidate", ({ peerId }) => {
      const did = ws.sessions.get(peerId)?.remoteDid;
      if (did) {
        remotes.set(peerId, did);
        this.sessionSeen.set(did, Date.now());
      }
      this.#changed();
    });
    ws.on("peer-disconnected", ({ peerId }) => {
      const did = remotes.get(peerId);
      if (did) this.sessionSeen.set(did, Date.now());
      this.#changed();
    });
  }

  /** DIDs of the remotes this node has a sync session with now. */
  get connected(): Set<string> {
    return new Set([...this.ws.sessions.values()].map((s) => s.remoteDid).filter((d): d is string => !!d));
  }

  /**
   * Open the node on `db` (the browser's Weft database, see db.ts), every
   * signature checked by `verifier` (which skips those this device verified
   * on an earlier visit: node/verified-store.ts).
   */
  static async open(location: Location, db: WeftDb, verifier: RememberingVerifier): Promise<BrowserNode> {
    const keystore = browserKeystore(db);
    const [{ signer }, settings, peersSaved] = await Promise.all([
      loadOrCreate(keystore, "device"),
      loadSettings(db),
      db.get("settings", "peers"),
    ]);
    const node = await createNode({
      signer,
      verifier,
      keystore,
      storage: new IndexedDBStorageAdapter(DOCUMENTS_DB, "documents"),
    });
    const ws = node.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 15_000 }));
    const bn = new BrowserNode(node, ws, db, settings, verifier);
    if (peersSaved === undefined) {
      // First run: served by a peer, that peer is the one to sync with.
      const own = await servingPeer(location);
      if (own) await bn.addPeer(own, false);
      else await saveSetting(db, "peers", []);
    }
    for (const p of bn.peers) ws.connectTo(p.url, { carrier: p.carrier });
    await bn.#settleJoins();
    if (settings.offer) void bn.offer.start();
    return bn;
  }

  get did(): string {
    return this.node.did;
  }

  get peers(): readonly PeerSetting[] {
    return this.#settings.peers;
  }

  get currentSpace(): string | undefined {
    return this.#settings.space;
  }

  /** Spaces joined here whose documents no member has served yet. */
  get pendingJoins(): Settings["joins"] {
    return this.#settings.joins;
  }

  /** Settings or the node's spaces changed. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    const off = this.node.authority.onChange(listener);
    return () => {
      this.#listeners.delete(listener);
      off();
    };
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }

  async #set<K extends keyof Settings>(key: K, value: Settings[K]): Promise<void> {
    this.#settings = { ...this.#settings, [key]: value };
    await saveSetting(this.db, key, value);
    this.#changed();
  }

  /** Keep a connection to a peer or relay (typed as host:port, http(s):// or ws(s)://). */
  async addPeer(input: string, carrier: boolean): Promise<string> {
    const url = syncUrl(input);
    if (!this.peers.some((p) => p.url === url)) await this.#set("peers", [...this.peers, { url, carrier }]);
    this.ws.connectTo(url, { carrier });
    return url;
  }

  async removePeer(url: string): Promise<void> {
    this.ws.disconnectFrom(url);
    await this.#set("peers", this.peers.filter((p) => p.url !== url));
  }

  /** Back online: dial every peer that is not connected now, instead of waiting out the backoff. */
  reconnect(): void {
    for (const p of this.peers) {
      if (this.ws.status.get(p.url) === "open") continue;
      this.ws.disconnectFrom(p.url);
      this.ws.connectTo(p.url, { carrier: p.carrier });
    }
  }

  get offering(): boolean {
    return this.#settings.offer;
  }

  /**
   * Offer this tab's capacity for WASM jobs, or stop; remembered across
   * visits. An offer that could not start is not remembered, and rejects
   * with why, so nobody is told it is on when it is not.
   */
  async setOffer(on: boolean): Promise<void> {
    await this.#set("offer", on);
    if (!on) return await this.offer.stop();
    await this.offer.start();
    if (this.offer.state === "failed") {
      await this.#set("offer", false);
      throw new WeftError(
        "Unavailable",
        "offer/failed",
        `this tab cannot offer capacity: ${this.offer.error}. If it is offline, reload it once online so it can keep the runner`,
      );
    }
  }

  async openSpace(id: string): Promise<void> {
    if (this.#settings.space !== id) await this.#set("space", id);
  }

  /** Create a space held, for now, only here: the browser is asked to keep this origin's storage. */
  async createSpace(name: string): Promise<Space> {
    const space = await this.node.createSpace(name, { deviceName: deviceName(this.did) });
    await askPersistence();
    await this.openSpace(space.id);
    return space;
  }

  /**
   * Join with an invite (link or addressed), as `name` (for link invites,
   * which delegate to this device under that name). The peers it names are
   * dialed; resolves once a member served the space, which may be much later.
   */
  async join(text: string, name = deviceName(this.did)): Promise<Space> {
    const invite = decodeInvite(text.trim());
    for (const p of invite.peers ?? []) if (/^(wss?|https?):\/\//.test(p)) await this.addPeer(p, false);
    if (!this.node.space(invite.space) && !this.pendingJoins.some((j) => j.space === invite.space)) {
      await this.#set("joins", [...this.pendingJoins, { space: invite.space, since: Date.now() }]);
    }
    let space: Space;
    try {
      space = await this.node.join(invite, { name });
    } catch (e) {
      // Refused before joining started (e.g. an invite addressed to someone else): nothing is pending.
      await this.#set("joins", this.pendingJoins.filter((j) => j.space !== invite.space));
      throw e;
    }
    // The node has recorded the space as joined: make its documents durable too, or a reload now would lose it.
    await space.flush();
    await this.openSpace(space.id);
    await this.#settleJoins();
    return space;
  }

  /** Write every space's pending changes to IndexedDB (when the tab is hidden, and may be killed). */
  async flush(): Promise<void> {
    await Promise.all(this.node.spaces().map((s) => s.flush()));
  }

  /** Forget pending joins whose space has arrived. */
  async #settleJoins(): Promise<void> {
    const left = this.pendingJoins.filter((j) => !this.node.space(j.space));
    if (left.length !== this.pendingJoins.length) await this.#set("joins", left);
  }
}

/**
 * How this device names itself, unless told otherwise, in the delegation it
 * receives when it joins or creates a space: browser and system, and the
 * end of its DID, so two browsers of the same kind are told apart.
 */
export function deviceName(did: string): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua)
    ? "Firefox"
    : /Edg\//.test(ua)
    ? "Edge"
    : /Chrom/.test(ua)
    ? "Chromium"
    : "Safari";
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
    ? "iOS"
    : /Mac/.test(ua)
    ? "macOS"
    : /Windows/.test(ua)
    ? "Windows"
    : "Linux";
  return `${browser} on ${os} (${did.slice(-4)})`;
}
