/**
 * Stock clients take turns: a client arriving beside one that has a backlog
 * of messages waiting is served after one of that backlog, not after all of
 * it. Documents take turns too: what a document's clients have waiting is
 * served together, before a timer runs (the repo's broadcast of a change to
 * the document's other clients is one), not a message per timer. A node
 * that stops hands the repo nothing of what still waits. Real WebSockets on
 * loopback carry the stock protocol to the adapter a relay serves stock
 * clients with; the repo's cost per message is played by the listener (a
 * few milliseconds each, as a loaded relay spends), so the backlog is still
 * waiting when the second client's message arrives.
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
const OTHER_DOC = "2xmTtp1nDr9ydY6FfE7pxgJkznRr";
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

const request = (from: string, n: number, documentId = DOC) =>
  cbor.encode({ type: "request", senderId: from, targetId: "relay", documentId, data: new Uint8Array([n]) });

/** Keep the event loop busy for `ms`, as the repo's work on a message does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the repo's work on this message */ }
}

/** An adapter serving stock clients on a loopback WebSocket server, and how to stop both. */
async function serving(granted: StockGrant = grant) {
  const adapter = new StockWebSocketAdapter({ diagnostics: new Diagnostics(), spaceOf: () => SPACE });
  adapter.connect("relay" as never, {});
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  wss.on("connection", (ws) => adapter.accept(ws as unknown as WebSocketLike, granted));
  return {
    adapter,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    stop: async () => {
      adapter.disconnect();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

describe("stock clients under a backlog", () => {
  let server: Awaited<ReturnType<typeof serving>>;
  let adapter: StockWebSocketAdapter;
  let url: string;

  before(async () => {
    server = await serving();
    ({ adapter, url } = server);
  });

  after(() => server.stop());

  it("serve an arriving client's message after one of a busy client's backlog, not after all of it", async () => {
    const busy = await joined(url, "busy");
    const arriving = await joined(url, "arriving");
    const served: string[] = [];
    const done = new Promise<void>((resolve) => {
      const listener = (m: { senderId: string }) => {
        served.push(m.senderId);
        busyFor(COST_MS);
        if (served.length === BACKLOG + 1) {
          adapter.off("message", listener);
          resolve();
        }
      };
      adapter.on("message", listener);
    });
    for (let i = 0; i < BACKLOG; i++) busy.send(request("busy", i));
    arriving.send(request("arriving", 0));
    await done;
    const position = served.indexOf("arriving");
    assert.ok(position >= 0 && position < 10, `the arriving client was served after ${position} of the backlog`);
    busy.close();
    arriving.close();
  });

  it("serve what a document's clients have waiting in one turn, before a timer runs", async () => {
    const writers = await Promise.all(Array.from({ length: 10 }, (_, i) => joined(url, `writer${i}`)));
    const other = await joined(url, "other");
    let timerRan = false;
    let timerSet = false;
    const seenAfterTimer: string[] = [];
    const done = new Promise<void>((resolve) => {
      let writersServed = 0;
      const listener = (m: { senderId: string; documentId?: string }) => {
        if (m.documentId === OTHER_DOC) return busyFor(20); // the turn before: the writers' messages all wait
        if (!timerSet) {
          timerSet = true;
          setTimeout(() => (timerRan = true), 0);
        }
        if (timerRan) seenAfterTimer.push(m.senderId);
        busyFor(COST_MS);
        if (++writersServed === writers.length) {
          adapter.off("message", listener);
          resolve();
        }
      };
      adapter.on("message", listener);
    });
    other.send(request("other", 0, OTHER_DOC));
    writers.forEach((ws, i) => ws.send(request(`writer${i}`, 0)));
    await done;
    assert.deepEqual(seenAfterTimer, [], "the document's waiting messages were served across timers");
    for (const ws of [...writers, other]) ws.close();
  });
});

describe("a relay stopping with stock clients' messages waiting", () => {
  it("hands none of them to the repo once its adapter is disconnected", async () => {
    // The client's messages wait until its token's use is recorded, so all of them are waiting at once.
    let record!: () => void;
    const recorded = new Promise<void>((r) => (record = r));
    const { adapter, url, stop } = await serving({ ...grant, recorded });
    try {
      const busy = await joined(url, "busy");
      let served = 0;
      adapter.on("message", () => {
        if (++served === 1) adapter.disconnect(); // the node stops while the first is being handled
      });
      for (let i = 0; i < BACKLOG; i++) busy.send(request("busy", i));
      // The server answers a ping once it has read what came before it: every message is waiting now.
      busy.ping();
      await once(busy, "pong");
      record();
      await recorded;
      // Turns enough for the backlog to drain, had it been left waiting.
      for (let i = 0; i < BACKLOG; i++) await new Promise((r) => setImmediate(r));
      assert.equal(served, 1, `${served - 1} messages reached the repo after the adapter disconnected`);
    } finally {
      await stop();
    }
  });
});
