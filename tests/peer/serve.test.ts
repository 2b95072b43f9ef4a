/**
 * The HTTP + WebSocket server shell: a WebSocket whose client stopped
 * answering pings (gone without closing: asleep, or behind a NAT that
 * forgot it) is dropped, and one that answers, or keeps sending, stays. A busy server accepts
 * several waiting connections per turn of its event loop (libuv accepts one
 * per listening socket), and a port another process holds is refused as
 * taken even when that process listens with reusable sockets too.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Hono } from "hono";
import { WebSocket } from "ws";
import { serve, type Served } from "../../peer/http/serve.ts";
import { acceptorCount, listenFor } from "../../peer/http/acceptors.ts";

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

  it("keeps a WebSocket that sends, though its pongs are late: any frame shows it is there", async () => {
    const KEEPALIVE_MS = 500;
    const server = await serve({
      app: new Hono(),
      host: "127.0.0.1",
      port: 0,
      keepAliveMs: KEEPALIVE_MS,
      upgrade: () => Promise.resolve({ accept: () => {} }),
    });
    try {
      // A busy client reads (and answers) a ping only after what was sent to it before; meanwhile it sends.
      const busy = new WebSocket(`ws://127.0.0.1:${server.port}/`, { autoPong: false });
      await once(busy, "open");
      let closed = false;
      busy.once("close", () => (closed = true));
      const sending = setInterval(() => busy.send("still here"), 20);
      try {
        // Eight keepalive periods: a socket heard from by pongs alone is dropped at the second.
        await new Promise((r) => setTimeout(r, 8 * KEEPALIVE_MS));
        assert.equal(closed, false, "a client that keeps sending stays connected");
      } finally {
        clearInterval(sending);
      }
      if (!closed) await once(busy, "close");
      assert.ok(closed, "once it falls silent it is dropped like any other");
    } finally {
      await server.close();
    }
  });
});

describe("listening through several sockets", { skip: acceptorCount() === 1 && "one listening socket here" }, () => {
  it("accepts several waiting connections in one turn of a busy event loop", async () => {
    const server = createHttpServer();
    let accepted = 0;
    server.on("connection", (socket) => {
      accepted++;
      socket.destroy();
    });
    const listening = await listenFor(server, "127.0.0.1", 0);
    const dir = await mkdtemp(join(tmpdir(), "weft-acceptors-"));
    const done = join(dir, "connected");
    const COUNT = 64;
    // Another process connects COUNT times and says so (a file) once the kernel completed every handshake.
    const child = spawn(process.execPath, [
      "-e",
      `const net = require("node:net"), fs = require("node:fs"); let n = 0;
       for (let i = 0; i < ${COUNT}; i++) {
         const s = net.connect(${listening.port}, "127.0.0.1");
         s.on("error", () => {});
         s.once("connect", () => { if (++n === ${COUNT}) fs.writeFileSync(${JSON.stringify(done)}, ""); });
       }
       setTimeout(() => {}, 60000);`,
    ]);
    try {
      // This turn of the event loop is held until all COUNT wait in the kernel's queues; the next turn's
      // poll phase accepts what it can, and its check phase counts them.
      const inOneTurn = await new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          const before = accepted;
          const deadline = Date.now() + 60_000;
          while (!existsSync(done)) {
            if (Date.now() > deadline) return reject(new Error("the connecting process never connected"));
          }
          setImmediate(() => resolve(accepted - before));
        });
      });
      assert.ok(inOneTurn > 1, `${inOneTurn} of ${COUNT} waiting connections accepted in one turn`);
      while (accepted < COUNT) await new Promise((r) => setTimeout(r, 20));
    } finally {
      child.kill();
      await listening.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a port that another process's reusable sockets hold", async () => {
    const other = createNetServer();
    await new Promise<void>((resolve) => other.listen({ host: "127.0.0.1", port: 0, reusePort: true }, resolve));
    const port = (other.address() as { port: number }).port;
    try {
      await assert.rejects(listenFor(createHttpServer(), "127.0.0.1", port), { code: "EADDRINUSE" });
    } finally {
      other.close();
    }
  });
});
