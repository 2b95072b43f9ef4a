/**
 * Serving stock automerge-repo clients (the published WebSocket client
 * adapter, no Weft code) over WebSocket, for the spaces their token grants.
 *
 * The token (a UCAN container with an invocation of /weft/space/sync,
 * addressed to this node, short-lived) is checked before the socket is
 * accepted — see `authorizeStockClient`. The socket then speaks automerge-
 * repo's WebSocket protocol ("join" → "peer", then CBOR repo messages);
 * its peer id is bound at join, and every message either way is let
 * through only for documents of the granted spaces. A stock client is
 * served the documents it asks for; it is not offered the rest of the
 * space (a space is its document plus dozens of buckets, and a client that
 * finds one document should not have to take them all).
 *
 * The token opens the socket; the membership it rests on keeps it open.
 * The socket is closed when the token's chain lapses, and when a change to
 * a granted space's revocations means the token no longer validates. A
 * single-use token's short expiry bounds when a socket may be opened with
 * it, not how long the member may sync: a long run must not end (and
 * re-sync) every client at once when its ten minutes are up.
 *
 * Handshakes come before sync work. The stock client gives a server one
 * second from connecting to answer its join; past that it declares every
 * document it looks for unavailable. Each sync message sets off work in the
 * repo (share checks against every peer, sync with the document's other
 * peers) that runs to its end before the event loop reads a socket again,
 * so under load a burst of them held new clients' upgrades and joins past
 * that second. A join is answered as it arrives; the repo's messages wait
 * in per-client queues and are served a document per turn of the event
 * loop, so what a turn costs is bounded and upgrades, token checks and joins
 * are served between turns. A single-use token's use is written to disk
 * while the socket opens and its join is answered (that write waits behind
 * document writes, over a second under load); the repo hears of the client,
 * and its messages are served, only once the write is durable.
 *
 * Documents take turns. A document's turn serves its line in rounds, the
 * next message of each client per round, for as long as they have messages
 * for it waiting, up to PER_TURN; so a client arriving beside busy writers
 * waits for one message of each, not for everything they sent before it.
 * Serving a document's clients together is what keeps the sync work down:
 * the repo tells a document's other peers of a change on a timer (at most
 * every 100 ms), so changes applied one per turn, timers running between
 * them, each went out to every peer on its own, and every peer answered
 * each. Applied together, one round tells them all: on the relay bench the
 * relay's frames per delivery fell from about 3× the stock server's to
 * about 1×, and its deliveries per second doubled.
 *
 * What the repo sends a client for a document in the moments after the
 * client wrote to it goes out as one message (held-answers.ts): the repo
 * answers each write from the document as it was before applying it and
 * tells the document's clients the rest on its timer, so each client of a
 * turn got two messages with changes per round, and applied and answered
 * both.
 *
 * A client with more than MAX_QUEUED messages waiting is closed (1013): it
 * sends faster than it can be served.
 */
import { cbor, type Message, NetworkAdapter, type PeerId, type PeerMetadata } from "@automerge/automerge-repo";
import type { Diagnostics } from "../diagnostics.ts";
import type { PeerAccess } from "./peer-access.ts";
import type { WebSocketLike } from "./websocket-adapter.ts";
import { HeldAnswers } from "./held-answers.ts";

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Messages one client may have waiting to be handed to the repo. */
const MAX_QUEUED = 1024;
/** Bytes one client may have waiting to be handed to the repo. */
const MAX_QUEUED_BYTES = 2 * MAX_MESSAGE_BYTES;
/** WebSocket close code for "try again later" (server overloaded). */
const CLOSE_TRY_AGAIN_LATER = 1013;
/** WebSocket close code for "the server failed" (here: it could not record a single-use token's use). */
const CLOSE_INTERNAL_ERROR = 1011;

/** Run `fn` after the event loop has read its sockets again (a macrotask; immediate where the runtime has it). */
const nextTurn: (fn: () => void) => void = (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate ??
  ((fn) => void setTimeout(fn, 0));
const PROTOCOL_V1 = "1";
/** Messages served in one document's turn: bounds what a turn costs when its clients have much waiting. */
const PER_TURN = 16;
/**
 * How long what the repo sends a client for a document after the client wrote to it is gathered into one message
 * (see held-answers.ts): the repo tells a document's peers of a change at most 100 ms after it, and timers run late.
 */
const ANSWER_HOLD_MS = 120;

/** The document a repo message is for ("" for the few that name none), which decides its place in line. */
function documentOf(m: Record<string, unknown>): string {
  return typeof m.documentId === "string" ? m.documentId : "";
}

/** What a checked token grants a socket, and for how long. */
export interface StockGrant {
  spaces: ReadonlySet<string>;
  /** The token's issuer. */
  who: string;
  /** Milliseconds until the authority the session rests on (the token's chain) lapses; null: it does not. */
  lapsesInMs: number | null;
  /** Whether the token still validates (e.g. after a revocation in one of its spaces). */
  stillValid(): Promise<boolean>;
  /**
   * For a single-use token: settles once its use is durably recorded. Until then the client's join is
   * answered but the repo does not hear of it (nothing is synced either way); if recording fails the socket
   * is closed (1011) having been served nothing.
   */
  recorded?: Promise<void>;
}

/** WebSocket close code for "your authorization ended" (the 4000s are the application's). */
export const CLOSE_UNAUTHORIZED = 4401;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Client {
  socket: WebSocketLike;
  peer?: string;
  spaces: ReadonlySet<string>;
  who: string;
  grant: StockGrant;
  lapse?: ReturnType<typeof setTimeout>;
  /** Messages received and not yet handed to the repo, oldest first, and their bytes. */
  queue: Array<{ m: Record<string, unknown>; bytes: number }>;
  queuedBytes: number;
  /** Whether the grant's use is recorded (StockGrant.recorded): until then its messages wait and the repo does not know it. */
  recorded: boolean;
  /** What it joined with, told to the repo once it is recorded. */
  peerMetadata?: PeerMetadata;
}

export class StockWebSocketAdapter extends NetworkAdapter implements PeerAccess {
  readonly #diagnostics: Diagnostics;
  readonly #spaceOf: (documentId: string) => string | undefined;
  readonly #byPeer = new Map<string, Client>();
  /** Every accepted socket, joined or not. */
  readonly #clients = new Set<Client>();
  /**
   * Per document, the clients whose next message is for it; documents take turns in this order (a document
   * served goes to the back if clients are still in its line, and so does a client with more messages).
   */
  readonly #waiting = new Map<string, Client[]>();
  #draining = false;
  #ready = false;
  readonly offersWholeSpaces = false;
  readonly #accessListeners: Array<(peer: string) => void> = [];
  readonly #answers: HeldAnswers<Message & { data: Uint8Array }>;

  constructor(options: { diagnostics: Diagnostics; spaceOf: (documentId: string) => string | undefined }) {
    super();
    this.#diagnostics = options.diagnostics;
    this.#spaceOf = options.spaceOf;
    this.#answers = new HeldAnswers({
      holdMs: ANSWER_HOLD_MS,
      deliver: (peer, message) => {
        const client = this.#byPeer.get(peer);
        if (client) this.#sendRaw(client, message as unknown as Record<string, unknown>);
      },
      onMerged: () => this.#diagnostics.count("sync.stock.merged"),
    });
  }

  isReady(): boolean {
    return this.#ready;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata;
    this.#ready = true;
  }

  disconnect(): void {
    this.#answers.clear();
    for (const c of this.#clients) {
      if (c.lapse !== undefined) clearTimeout(c.lapse);
      c.queue = []; // what waits is not handed to a repo that is stopping
      c.queuedBytes = 0;
      c.socket.close(1000, "node stopping");
    }
    this.#clients.clear();
    this.#waiting.clear();
    const peers = [...this.#byPeer.keys()];
    this.#byPeer.clear();
    for (const peer of peers) this.#accessChanged(peer);
    this.emit("close");
  }

  spacesOf(peer: string): ReadonlySet<string> | undefined {
    return this.#byPeer.get(peer)?.spaces;
  }

  onPeerAccess(listener: (peer: string) => void): void {
    this.#accessListeners.push(listener);
  }

  #accessChanged(peer: string): void {
    for (const l of this.#accessListeners) l(peer);
  }

  /** Serve a socket whose token (checked already) granted `grant`. */
  accept(socket: WebSocketLike, grant: StockGrant): void {
    socket.binaryType = "arraybuffer";
    const client: Client = {
      socket,
      spaces: grant.spaces,
      who: grant.who,
      grant,
      queue: [],
      queuedBytes: 0,
      recorded: grant.recorded === undefined,
    };
    this.#clients.add(client);
    grant.recorded?.then(() => {
      client.recorded = true;
      if (!this.#clients.has(client)) return;
      if (client.peer !== undefined) this.#announce(client);
      if (client.queue.length > 0) this.#serve(client);
    }, () => {
      if (!this.#gone(client)) return;
      this.#diagnostics.count("sync.stock.unrecorded");
      client.socket.close(CLOSE_INTERNAL_ERROR, "could not record the token's use; reconnect with a new token");
    });
    if (grant.lapsesInMs !== null) {
      let left = grant.lapsesInMs;
      const lapse = () => {
        client.lapse = undefined;
        if (left <= MAX_TIMER_MS) return this.#end(client, "authorization expired");
        left -= MAX_TIMER_MS;
        client.lapse = setTimeout(lapse, Math.min(left, MAX_TIMER_MS));
      };
      client.lapse = setTimeout(lapse, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    }
    socket.addEventListener("message", (e) => {
      if (!this.#clients.has(client)) return; // ended: what it still sends while closing is not read
      const data = e.data instanceof ArrayBuffer ? new Uint8Array(e.data) : e.data;
      if (!(data instanceof Uint8Array) || data.length > MAX_MESSAGE_BYTES) {
        return this.#drop(client, "malformed", "not binary");
      }
      let m: Record<string, unknown>;
      try {
        m = cbor.decode(data) as Record<string, unknown>;
      } catch {
        return this.#drop(client, "malformed", "not CBOR");
      }
      if (typeof m !== "object" || m === null) return this.#drop(client, "malformed", "not a message");
      if (m.type === "join") return this.#join(client, m);
      if (client.peer === undefined) return this.#drop(client, "malformed", "message before join");
      this.#enqueue(client, m, data.length);
    });
    const gone = () => void this.#gone(client);
    socket.addEventListener("close", gone);
    socket.addEventListener("error", gone);
  }

  /** Forget a client (its socket closed, or is being closed); false if it was gone already. */
  #gone(client: Client): boolean {
    if (client.lapse !== undefined) clearTimeout(client.lapse);
    if (!this.#clients.delete(client)) return false;
    client.queue = []; // what it sent and was not served is not served now
    client.queuedBytes = 0;
    if (client.peer && this.#byPeer.get(client.peer) === client) {
      this.#answers.forget(client.peer);
      this.#byPeer.delete(client.peer);
      this.#accessChanged(client.peer);
      if (client.recorded) this.emit("peer-disconnected", { peerId: client.peer as PeerId });
    }
    return true;
  }

  /** Queue a repo message; the queues are drained one message per turn of the event loop, clients in turn. */
  #enqueue(client: Client, m: Record<string, unknown>, bytes: number): void {
    if (client.queue.length >= MAX_QUEUED || client.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      this.#diagnostics.count("sync.stock.overrun");
      if (!this.#gone(client)) return;
      client.socket.close(CLOSE_TRY_AGAIN_LATER, "sending faster than it can be served; reconnect later");
      return;
    }
    client.queue.push({ m, bytes });
    client.queuedBytes += bytes;
    if (client.queue.length === 1 && client.recorded) this.#serve(client);
  }

  /** Put a client with messages waiting in line, behind the document its next message is for. */
  #serve(client: Client): void {
    if (client.queue.length === 0) return; // gone, its queue emptied
    const doc = documentOf(client.queue[0].m);
    const line = this.#waiting.get(doc);
    if (line === undefined) this.#waiting.set(doc, [client]);
    else line.push(client);
    if (!this.#draining) {
      this.#draining = true;
      nextTurn(this.#drain);
    }
  }

  /**
   * One turn: a document's line, in rounds of one message per client, for as long as its clients have
   * messages for it waiting, up to PER_TURN messages. Who is left goes to the back, in order.
   */
  readonly #drain = (): void => {
    const first = this.#waiting.entries().next();
    if (first.done) {
      this.#draining = false;
      return;
    }
    const [doc, line] = first.value;
    this.#waiting.delete(doc);
    const batch: Array<[Client, Record<string, unknown>]> = [];
    let round = line;
    while (round.length > 0 && batch.length < PER_TURN) {
      const again: Client[] = [];
      let i = 0;
      for (; i < round.length && batch.length < PER_TURN; i++) {
        const client = round[i];
        const next = client.queue.shift();
        if (next === undefined) continue; // gone since it was put in line
        client.queuedBytes -= next.bytes;
        batch.push([client, next.m]);
        if (client.queue.length === 0) continue;
        if (documentOf(client.queue[0].m) === doc) again.push(client);
        else this.#serve(client);
      }
      round = [...round.slice(i), ...again];
    }
    for (const client of round) this.#serve(client);
    if (this.#waiting.size > 0) nextTurn(this.#drain);
    else this.#draining = false;
    // A client may go (or the adapter stop) while the repo handles the batch's messages before its own.
    for (const [client, m] of batch) if (this.#clients.has(client)) this.#receive(client, m);
  };

  /** A join binds the socket's peer id and is answered at once. */
  #join(client: Client, m: Record<string, unknown>): void {
    const peer = m.senderId;
    if (client.peer !== undefined || typeof peer !== "string" || peer.length === 0 || peer.length > 256) {
      return this.#drop(client, "malformed", "bad join");
    }
    const versions = m.supportedProtocolVersions;
    if (!Array.isArray(versions) || !versions.includes(PROTOCOL_V1)) {
      this.#sendRaw(client, {
        type: "error",
        senderId: this.peerId,
        targetId: peer,
        message: "unsupported protocol version",
      });
      client.socket.close(1000, "unsupported protocol version");
      return;
    }
    const bound = this.#byPeer.get(peer);
    if (bound !== undefined) {
      // A peer id is bound to the socket that joined with it first: no other principal hijacks a session.
      if (bound.who !== client.who) {
        this.#sendRaw(client, { type: "error", senderId: this.peerId, targetId: peer, message: "peer id in use" });
        client.socket.close(1000, "peer id in use");
        return;
      }
      // The same principal again: a client reconnecting before its old socket was seen to close (the stock
      // client opens a new one after 5 s without closing the old). The new socket takes the session over.
      this.#gone(bound);
      bound.socket.close(1000, "replaced by a newer connection");
      this.#diagnostics.count("sync.stock.replaced");
    }
    client.peer = peer;
    this.#byPeer.set(peer, client);
    this.#accessChanged(peer);
    // Answered before the repo hears of the peer: adding a peer checks every document the node holds
    // against it (65 per space on a relay), and the client's second is running.
    this.#sendRaw(client, {
      type: "peer",
      senderId: this.peerId,
      peerMetadata: this.peerMetadata ?? {},
      selectedProtocolVersion: PROTOCOL_V1,
      targetId: peer,
    });
    client.peerMetadata = (m.peerMetadata ?? {}) as PeerMetadata;
    if (client.recorded) this.#announce(client);
  }

  /** Tell the repo of a joined client: from now on it syncs with it. */
  #announce(client: Client): void {
    this.emit("peer-candidate", { peerId: client.peer as PeerId, peerMetadata: client.peerMetadata ?? {} });
  }

  #receive(client: Client, m: Record<string, unknown>): void {
    const doc = m.documentId;
    if (typeof doc === "string") {
      const space = this.#spaceOf(doc);
      if (space === undefined || !client.spaces.has(space)) {
        return this.#drop(client, "not-a-member", `not authorized for document ${doc}`, space);
      }
      if (m.type === "sync" && m.data instanceof Uint8Array) this.#answers.received(client.peer!, doc, m.data);
    } else if (m.type !== "remote-subscription-change") {
      return this.#drop(client, "malformed", "message without a document");
    }
    this.emit("message", { ...m, senderId: client.peer, targetId: this.peerId } as Message);
  }

  send(message: Message): void {
    const client = this.#byPeer.get(message.targetId);
    if (!client) return;
    const doc = message.documentId;
    if (doc !== undefined) {
      const space = this.#spaceOf(doc);
      if (space === undefined || !client.spaces.has(space)) {
        this.#diagnostics.count("sync.withheld");
        return;
      }
      if (message.type === "sync" && message.data instanceof Uint8Array) {
        return this.#answers.sendSync(message.targetId, doc, message as Message & { data: Uint8Array });
      }
    }
    // Whatever else goes to the client goes after what is held for it.
    this.#answers.flush(message.targetId, doc);
    this.#sendRaw(client, message as unknown as Record<string, unknown>);
  }

  /** A space's members or revocations changed: close the sockets whose token no longer validates. */
  async recheck(space: string): Promise<void> {
    for (const client of [...this.#clients]) {
      if (!client.spaces.has(space)) continue;
      if (!(await client.grant.stillValid().catch(() => false))) this.#end(client, "token revoked");
    }
    this.#diagnostics.count("sync.stock.rechecked");
  }

  /** Stop serving a client whose authorization ended: nothing more goes to it, and it is told why. */
  #end(client: Client, why: string): void {
    if (!this.#gone(client)) return;
    this.#diagnostics.count("sync.stock.ended");
    client.socket.close(CLOSE_UNAUTHORIZED, why);
  }

  #sendRaw(client: Client, m: Record<string, unknown>): void {
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (v !== undefined) clean[k] = v;
    try {
      client.socket.send(cbor.encode(clean));
    } catch {
      client.socket.close(1000, "send failed");
    }
  }

  #drop(client: Client, code: string, reason: string, space?: string): void {
    this.#diagnostics.refuse({
      kind: "sync",
      from: client.who,
      what: "stock-websocket",
      code: `sync/${code}`,
      reason,
      ...(space ? { space } : {}),
    });
  }
}
