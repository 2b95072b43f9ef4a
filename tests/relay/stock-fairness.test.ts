/**
 * Stock clients take turns: a client arriving beside one that has a backlog
 * of messages waiting is served after one of that backlog, not after all of
 * it. Real WebSockets on loopback carry the stock protocol to the adapter a
 * relay serves stock clients with; the repo's cost per message is played by
 * the listener (a few milliseconds each, as a loaded relay spends), so the
 * backlog is still waiting when the second client's message arrives.
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

const SPACE = "did:key:z6MkSpace";
const DOC = "4NMNnkMhL8jXrdJ9jamS58PAVdXu";
const BACKLOG = 100;
/** What the repo takes per message here, in milliseconds of busy event loop. */
const COST_MS = 3;

const grant: StockGrant = {
  spaces: new Set([SPACE]),
  who: "did:key:z6MkClient",
  lapsesInMs: 600_000,
  stillValid: () => Promise.resolve(true),
};

/** A stock client's socket, joined as `peer`. */
async function joined(url: string, peer: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await once(ws, "open");
  ws.send(cbor.encode({ type: "join", senderId: peer, peerMetadata: {}, supportedProtocolVersions: ["1"] }));
  await once(ws, "message"); // the "peer" answer
  return ws;
}

const request = (from: string, n: number) =>
  cbor.encode({ type: "request", senderId: from, targetId: "relay", documentId: DOC, data: new Uint8Array([n]) });

describe("stock clients under a backlog", () => {
  let wss: WebSocketServer;
  let adapter: StockWebSocketAdapter;
  let url: string;

  before(async () => {
    adapter = new StockWebSocketAdapter({ diagnostics: new Diagnostics(), spaceOf: () => SPACE });
    adapter.connect("relay" as never, {});
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    wss.on("connection", (ws) => adapter.accept(ws as unknown as WebSocketLike, grant));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  after(async () => {
    adapter.disconnect();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  it("serve an arriving client's message after one of a busy client's backlog, not after all of it", async () => {
    const busy = await joined(url, "busy");
    const arriving = await joined(url, "arriving");
    const served: string[] = [];
    const done = new Promise<void>((resolve) => {
      adapter.on("message", (m) => {
        served.push(m.senderId);
        const until = performance.now() + COST_MS;
        while (performance.now() < until) { /* the repo's work on this message */ }
        if (served.length === BACKLOG + 1) resolve();
      });
    });
    for (let i = 0; i < BACKLOG; i++) busy.send(request("busy", i));
    arriving.send(request("arriving", 0));
    await done;
    const position = served.indexOf("arriving");
    assert.ok(position >= 0 && position < 10, `the arriving client was served after ${position} of the backlog`);
    busy.close();
    arriving.close();
  });
});
