/**
 * Serving a hono app plus WebSocket upgrades on whichever runtime runs us:
 * Node (@hono/node-server + ws) or Deno (Deno.serve + Deno.upgradeWebSocket).
 * The app stays runtime-agnostic; only this file knows the difference.
 */
import type { Hono } from "hono";
import type { Socket } from "node:net";
import type { WebSocketLike } from "../../protocol/sync/websocket-adapter.ts";

/** Decide on a WebSocket upgrade: accept with a handler for the socket, or refuse with a status. */
export type Upgrade = (url: URL, headers: Headers) => Promise<
  { accept: (socket: WebSocketLike) => void } | { status: number; body: unknown }
>;

export interface Served {
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  app: Hono;
  host: string;
  port: number;
  upgrade: Upgrade;
  /**
   * How often WebSockets are pinged; one that has not answered the previous
   * ping by the next is dropped, so a client that vanished without closing
   * (a laptop asleep, a NAT that forgot it) does not hold its session open.
   * Deno does the same by itself (upgradeWebSocket's idleTimeout).
   */
  keepAliveMs?: number;
}

const KEEPALIVE_MS = 30_000;
/** How long a connection closed after a refused request may linger, so its client can read the answer. */
const LINGER_MS = 2_000;

export function serve(options: ServeOptions): Promise<Served> {
  return "Deno" in globalThis ? serveDeno(options) : serveNode(options);
}

async function serveNode({ app, host, port, upgrade, keepAliveMs = KEEPALIVE_MS }: ServeOptions): Promise<Served> {
  const { serve: honoServe } = await import("@hono/node-server");
  const { WebSocketServer } = await import("ws");
  type Ws = import("ws").WebSocket;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  const answered = new WeakMap<Ws, boolean>();
  const keepAlive = setInterval(() => {
    for (const ws of wss.clients) {
      if (!answered.get(ws)) {
        ws.terminate();
        continue;
      }
      answered.set(ws, false);
      ws.ping();
    }
  }, keepAliveMs);
  const server = honoServe({ fetch: app.fetch, hostname: host, port });
  // A connection the server closes (one whose request was refused before its body was read
  // says `connection: close`) lingers: FIN now, nothing more read, let go after LINGER_MS.
  // Destroying it at once would reset it with the client's bytes unread, and a reset can
  // make the client lose the answer before it reads it.
  server.on("connection", (socket: Socket) => {
    socket.destroySoon = () => {
      socket.end();
      socket.pause();
      const timer = setTimeout(() => socket.destroy(), LINGER_MS);
      timer.unref();
      socket.once("close", () => clearTimeout(timer));
    };
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  server.on("upgrade", (req, socket, head) => {
    // While the upgrade is being decided nothing else listens on the socket: a client that resets
    // it then must not take the whole process down with an unhandled "error".
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    upgrade(url, headers).then((decision) => {
      if ("accept" in decision) {
        wss.handleUpgrade(req, socket, head, (ws) => {
          answered.set(ws, true);
          ws.on("pong", () => answered.set(ws, true));
          decision.accept(ws as unknown as WebSocketLike);
        });
      } else {
        const body = JSON.stringify(decision.body);
        socket.end(
          `HTTP/1.1 ${decision.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${
            new TextEncoder().encode(body).length
          }\r\nconnection: close\r\n\r\n${body}`,
        );
      }
    }, () => socket.destroy());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  return {
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(keepAlive);
        for (const c of wss.clients) c.terminate();
        wss.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

interface DenoLike {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (req: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number } };
  upgradeWebSocket(req: Request): { socket: WebSocket; response: Response };
}

async function serveDeno({ app, host, port, upgrade }: ServeOptions): Promise<Served> {
  const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  let bound = port;
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: host,
    port,
    onListen: (addr) => {
      bound = addr.port;
      listening.resolve();
    },
  }, async (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const decision = await upgrade(new URL(req.url), req.headers);
      if (!("accept" in decision)) return Response.json(decision.body, { status: decision.status });
      const { socket, response } = Deno.upgradeWebSocket(req);
      decision.accept(socket as unknown as WebSocketLike);
      return response;
    }
    return await app.fetch(req);
  });
  await listening.promise;
  return { host, port: bound, close: () => server.shutdown() };
}
