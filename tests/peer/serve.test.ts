/**
 * The HTTP + WebSocket server shell: a WebSocket whose client stopped
 * answering pings (gone without closing: asleep, or behind a NAT that
 * forgot it) is dropped, and one that answers stays.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { Hono } from "hono";
import { WebSocket } from "ws";
import { serve, type Served } from "../../peer/http/serve.ts";

describe("serve", () => {
  let served: Served;
  let url: string;

  before(async () => {
    served = await serve({
      app: new Hono(),
      host: "127.0.0.1",
      port: 0,
      keepAliveMs: 150,
      upgrade: () => Promise.resolve({ accept: () => {} }),
    });
    url = `ws://127.0.0.1:${served.port}/`;
  });
  after(() => served.close());

  it("drops a WebSocket that stopped answering pings and keeps one that answers", async () => {
    const silent = new WebSocket(url, { autoPong: false });
    const live = new WebSocket(url);
    await Promise.all([once(silent, "open"), once(live, "open")]);
    const dropped = once(silent, "close");
    const start = performance.now();
    await dropped;
    // Dropped at the second keepalive tick: pinged at the first, no answer by the next.
    assert.ok(performance.now() - start < 2000, "dropped within a few keepalive periods");
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(live.readyState, WebSocket.OPEN, "a client that answers pings stays connected");
    live.close();
  });
});
