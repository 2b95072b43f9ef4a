/**
 * A stock client's peer id is bound to the socket that joined with it: a
 * socket of another principal (a different token issuer) joining with the
 * same id is refused, and the session stays where it was; a new socket of
 * the same principal takes the session over, closing the old one — a client
 * reconnecting before its old socket was seen to close (the stock client
 * opens a new socket after 5 s without closing the old) is not locked out.
 * Real WebSockets on loopback, the adapter a relay serves stock clients with.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { cbor } from "@automerge/automerge-repo";
import { WebSocket, WebSocketServer } from "ws";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { type StockGrant, StockWebSocketAdapter } from "../../protocol/sync/stock-websocket-adapter.ts";
import type { WebSocketLike } from "../../protocol/sync/websocket-adapter.ts";
import { eventually } from "../helpers/nodes.ts";

const SPACE = "did:key:z6MkSpace";
const DOC = "4NMNnkMhL8jXrdJ9jamS58PAVdXu";

/** What a checked token grants; `who` is its issuer. */
const grant = (who: string): StockGrant => ({
  spaces: new Set([SPACE]),
  who,
  lapsesInMs: null,
  stillValid: () => Promise.resolve(true),
});

/** A socket of principal `who` joining as `peer`; resolves with the socket and the server's first answer. */
async function join(url: string, who: string, peer: string) {
  const ws = new WebSocket(`${url}/?who=${encodeURIComponent(who)}`);
  await once(ws, "open");
  const answer = once(ws, "message").then(([data]) => cbor.decode(data as Uint8Array) as Record<string, unknown>);
  ws.send(cbor.encode({ type: "join", senderId: peer, peerMetadata: {}, supportedProtocolVersions: ["1"] }));
  return { ws, answer: await answer };
}

const request = (from: string) =>
  cbor.encode({ type: "request", senderId: from, targetId: "relay", documentId: DOC, data: new Uint8Array([1]) });

describe("a stock client's peer id", () => {
  let wss: WebSocketServer;
  let adapter: StockWebSocketAdapter;
  let diagnostics: Diagnostics;
  let url: string;
  const events: string[] = [];
  const served: string[] = [];

  before(async () => {
    diagnostics = new Diagnostics();
    adapter = new StockWebSocketAdapter({ diagnostics, spaceOf: () => SPACE });
    adapter.connect("relay" as never, {});
    adapter.on("peer-candidate", (e) => void events.push(`+${e.peerId}`));
    adapter.on("peer-disconnected", (e) => void events.push(`-${e.peerId}`));
    adapter.on("message", (m) => void served.push(m.senderId));
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    wss.on("connection", (ws, req) => {
      const who = new URL(req.url ?? "/", "http://x").searchParams.get("who")!;
      adapter.accept(ws as unknown as WebSocketLike, grant(who));
    });
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  after(async () => {
    adapter.disconnect();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  it("is not taken by another principal's socket: refused, and the session stays", async () => {
    const alice = await join(url, "did:key:z6MkAlice", "peer-a");
    assert.equal(alice.answer.type, "peer");
    const closed = new Promise<number>((resolve) => {
      const ws = new WebSocket(`${url}/?who=did:key:z6MkMallory`);
      ws.once("close", (code) => resolve(code));
      ws.once("open", () =>
        ws.send(
          cbor.encode({ type: "join", senderId: "peer-a", peerMetadata: {}, supportedProtocolVersions: ["1"] }),
        ));
    });
    assert.equal(await closed, 1000);
    assert.equal(alice.ws.readyState, WebSocket.OPEN, "the first socket keeps its session");
    alice.ws.send(request("peer-a"));
    await eventually(() => served.includes("peer-a"), 10_000, "the first socket is still served");
    assert.deepEqual(events, ["+peer-a"], "the repo never saw the session move");
    alice.ws.close();
    await eventually(() => events.includes("-peer-a"), 10_000, "the session ends with its socket");
  });

  it("moves to a new socket of the same principal, which closes the old one", async () => {
    events.length = 0;
    const first = await join(url, "did:key:z6MkBob", "peer-b");
    const firstClosed = once(first.ws, "close");
    const second = await join(url, "did:key:z6MkBob", "peer-b");
    assert.equal(second.answer.type, "peer", "the reconnecting client is answered, not refused");
    const [code, reason] = await firstClosed;
    assert.equal(code, 1000);
    assert.match(String(reason), /replaced/);
    assert.deepEqual(events, ["+peer-b", "-peer-b", "+peer-b"], "the repo sees the old session end and the new begin");
    assert.equal(diagnostics.counter("sync.stock.replaced"), 1);
    second.ws.send(request("peer-b"));
    await eventually(() => served.includes("peer-b"), 10_000, "the new socket is served");
    second.ws.close();
  });
});
