/**
 * A stock client gets one message with changes per round of writes, not
 * two. The repo answers each client's message from the document as it was
 * before applying it and tells the document's clients the rest on a timer;
 * the relay gathers what it sends a client in the moments after the
 * client's write into one message (protocol/sync/held-answers.ts). Real WebSockets on loopback carry the
 * stock protocol between a real automerge-repo `Repo` (the relay's stock
 * adapter its network) and clients driven by automerge's own sync calls,
 * so that every client's write reaches the relay in the same turn.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as A from "@automerge/automerge";
import { cbor, type DocumentId, type PeerId, Repo } from "@automerge/automerge-repo";
import { WebSocket, WebSocketServer } from "ws";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { type StockGrant, StockWebSocketAdapter } from "../../protocol/sync/stock-websocket-adapter.ts";
import type { WebSocketLike } from "../../protocol/sync/websocket-adapter.ts";

const SPACE = "did:key:z6MkSpace";
const CLIENTS = 5;
const ROUNDS = 3;

const grant: StockGrant = {
  spaces: new Set([SPACE]),
  who: "did:key:z6MkClient",
  lapsesInMs: 600_000,
  stillValid: () => Promise.resolve(true),
};

type Doc = Record<string, number>;

/**
 * A stock client reduced to the protocol: a socket, a document and automerge's sync state, answering each
 * sync message as automerge-repo does. It counts the messages that brought changes.
 */
class Client {
  doc = A.init<Doc>();
  state = A.initSyncState();
  withChanges = 0;
  readonly #waiters: Array<() => void> = [];
  readonly ws: WebSocket;
  readonly peer: string;
  readonly documentId: string;
  private constructor(ws: WebSocket, peer: string, documentId: string) {
    this.ws = ws;
    this.peer = peer;
    this.documentId = documentId;
    ws.on("message", (bytes: Buffer) => {
      const m = cbor.decode(new Uint8Array(bytes)) as { type: string; data?: Uint8Array };
      if (m.type !== "sync" || !m.data) return;
      if (A.decodeSyncMessage(m.data).changes.length > 0) this.withChanges++;
      [this.doc, this.state] = A.receiveSyncMessage(this.doc, this.state, m.data);
      this.sync();
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async join(url: string, peer: string, documentId: string): Promise<Client> {
    const ws = new WebSocket(url);
    await once(ws, "open");
    ws.send(cbor.encode({ type: "join", senderId: peer, peerMetadata: {}, supportedProtocolVersions: ["1"] }));
    await once(ws, "message"); // the "peer" answer
    const client = new Client(ws, peer, documentId);
    client.sync("request");
    return client;
  }

  /** Send the sync message automerge has for the relay, if any. */
  sync(type = "sync"): void {
    const [state, data] = A.generateSyncMessage(this.doc, this.state);
    this.state = state;
    if (data) {
      this.ws.send(cbor.encode({ type, senderId: this.peer, targetId: "relay", documentId: this.documentId, data }));
    }
  }

  write(key: string): void {
    this.doc = A.change(this.doc, (d) => void (d[key] = 1));
  }

  /** Resolves once the document holds every key in `keys`. */
  async has(keys: string[]): Promise<void> {
    while (!keys.every((k) => k in this.doc)) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

describe("stock clients writing together", () => {
  let repo: Repo;
  let adapter: StockWebSocketAdapter;
  let wss: WebSocketServer;
  let url: string;
  let documentId: DocumentId;

  before(async () => {
    adapter = new StockWebSocketAdapter({ diagnostics: new Diagnostics(), spaceOf: () => SPACE });
    repo = new Repo({ network: [adapter], peerId: "relay" as PeerId, sharePolicy: () => Promise.resolve(true) });
    const handle = repo.create<Doc>({ start: 1 });
    documentId = handle.documentId;
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    wss.on("connection", (ws) => adapter.accept(ws as unknown as WebSocketLike, grant));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
    await repo.shutdown();
  });

  it("get each round's writes of the others in one message with changes, not two", async () => {
    let total = 0;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => Client.join(url, `c${i}`, documentId)));
    await Promise.all(clients.map((c) => c.has(["start"])));
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of clients) c.withChanges = 0;
      // Every client writes, then all send in one go: the relay reads them in one turn.
      for (const c of clients) c.write(`${c.peer}:${round}`);
      for (const c of clients) c.sync();
      const keys = clients.map((c) => `${c.peer}:${round}`);
      await Promise.all(clients.map((c) => c.has(keys)));
      assert.ok(clients.every((c) => c.withChanges >= 1));
      total += clients.reduce((n, c) => n + c.withChanges, 0);
    }
    // One per client per round; now and then the repo's timer fires after a client's window has closed, and that
    // client's round takes two. Answered as they come, most clients took two every round (27 of 15 here).
    assert.ok(
      total <= CLIENTS * ROUNDS + ROUNDS,
      `${total} messages with changes for ${CLIENTS * ROUNDS} rounds of clients`,
    );
    // Everything written is on the relay too, and every client ends with the same document.
    const doc = (await repo.find<Doc>(documentId)).doc();
    for (const c of clients) assert.deepEqual(A.getHeads(c.doc), A.getHeads(doc));
    for (const c of clients) c.ws.close();
  });
});
