/**
 * Serving a hono app plus WebSocket upgrades, on Node and on Deno alike:
 * node:http (@hono/node-server) and the ws package, which Deno's Node
 * compatibility runs as well. Not Deno.serve and Deno.upgradeWebSocket on
 * Deno: its WebSocket has no frame-size limit, so before authentication
 * anyone could make a Deno relay buffer 64 MiB frames, while ws refuses a
 * frame from its header alone. Every WebSocket starts unauthenticated,
 * under ws-admission.ts's limits, until its handler calls `admit`.
 */
import type { Hono } from "hono";
import type { Socket } from "node:net";
import type { IncomingMessage, Server } from "node:http";
import type { Buffer } from "node:buffer";
import { MAX_FRAME_BYTES, type WebSocketLike } from "#protocol/sync";
import { Admission, type AdmissionLimits, type Ticket } from "./ws-admission.ts";
import { listenFor } from "./acceptors.ts";

/**
 * Decide on a WebSocket upgrade: accept with a handler for the socket, or
 * refuse with a status. The handler calls `admit` once whoever is on the
 * socket has authenticated (at once, if the upgrade itself was authenticated).
 */
export type Upgrade = (url: URL, headers: Headers) => Promise<
  { accept: (socket: WebSocketLike, admit: () => void) => void } | { status: number; body: unknown }
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
   * How often WebSockets are pinged; one that has sent nothing (no pong, no
   * message) since the previous ping is dropped, so a client that vanished
   * without closing (a laptop asleep, a NAT that forgot it) does not hold its
   * session open. Any frame counts: a busy client's pong waits behind what
   * it reads first, and one that is sending is there.
   */
  keepAliveMs?: number;
  /** Limits on sockets that have not authenticated yet (defaults: DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionLimits>;
}

/** The refusal of an upgrade past the unauthenticated-socket caps. */
function tooMany(why: string) {
  return { status: 503, body: { error: { code: "ws/unauthenticated-limit", message: why } } };
}

/** Close a socket that did not authenticate in time. */
function closeUnauthenticated(socket: { close(code: number, reason: string): void }, limits: AdmissionLimits): void {
  socket.close(1008, `not authenticated within ${limits.timeoutMs} ms`);
}

const KEEPALIVE_MS = 30_000;
/** How long a connection closed after a refused request may linger, so its client can read the answer. */
const LINGER_MS = 2_000;
/**
 * A task operation is its own bearer (the Authorization header), and one
 * may be as large as the UCAN token limit (64 KiB, base64 and its proofs
 * on top): Node's default 16 KiB refused a task with a long body (431).
 */
const MAX_HEADER_BYTES = 128 * 1024;

/**
 * Set the largest frame `ws` takes from now on. The ws package reads a
 * frame's length from its header and refuses it (close 1009) before
 * buffering any of it, but only has a per-server option for the limit: this
 * sets its receiver's, per connection (tests/relay/admission.test.ts checks
 * that it still takes effect).
 */
function setMaxPayload(ws: object, bytes: number): void {
  const receiver = (ws as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (typeof receiver?._maxPayload !== "number") throw new Error("ws no longer has a per-connection payload limit");
  receiver._maxPayload = bytes;
}

export async function serve(
  { app, host, port, upgrade, keepAliveMs = KEEPALIVE_MS, admission: limits }: ServeOptions,
): Promise<Served> {
  const { createAdaptorServer } = await import("@hono/node-server");
  const { WebSocketServer } = await import("ws");
  type Ws = import("ws").WebSocket;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const admission = new Admission(limits);
  const answered = new WeakMap<Ws, boolean>();
  /** Hold `ws` to the pre-authentication limits; the function returned lifts them. */
  const admitted = (ws: Ws, ticket: Ticket) => {
    setMaxPayload(ws, admission.limits.maxPayload);
    // Refused before it authenticated (an oversized frame): read nothing more of it. ws would go on reading and
    // discarding what the client still sends until the close handshake ends, and a runtime that buffers its
    // reads (Deno) holds all of it meanwhile; the close frame is sent, then the socket is ended unread and let go
    // after LINGER_MS (a client still pushing its frame never ends the handshake: ws would hold it 30 s).
    ws.once("error", () => {
      if (ticket.admitted) return;
      const socket = (ws as unknown as { _socket?: Socket })._socket;
      setImmediate(() => socket?.destroySoon());
    });
    const timer = setTimeout(() => closeUnauthenticated(ws, admission.limits), admission.limits.timeoutMs);
    ws.once("close", () => clearTimeout(timer));
    return () => {
      if (ticket.admitted) return;
      ticket.admit();
      clearTimeout(timer);
      setMaxPayload(ws, MAX_FRAME_BYTES);
    };
  };
  const server = createAdaptorServer({
    fetch: app.fetch,
    hostname: host,
    serverOptions: { maxHeaderSize: MAX_HEADER_BYTES },
  }) as Server;
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
  const listening = await listenFor(server, host, port);
  // Only once listening: a server that could not listen (its port taken) leaves nothing running behind it.
  let lastTick = performance.now();
  const keepAlive = setInterval(() => {
    const now = performance.now();
    // A tick this late means this process was not run (or was busy) for much of the period, and read nothing
    // its clients sent meanwhile: their silence says nothing, so this round only pings.
    const judge = now - lastTick < 1.5 * keepAliveMs;
    lastTick = now;
    for (const ws of wss.clients) {
      if (judge && !answered.get(ws)) {
        ws.terminate();
        continue;
      }
      answered.set(ws, false);
      ws.ping();
    }
  }, keepAliveMs);
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // While the upgrade is being decided nothing else listens on the socket: a client that resets
    // it then must not take the whole process down with an unhandled "error".
    socket.on("error", () => socket.destroy());
    const ticket = admission.enter(socket.remoteAddress ?? "unknown");
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const decided = "refused" in ticket ? Promise.resolve(tooMany(ticket.refused)) : upgrade(url, headers);
    if (!("refused" in ticket)) socket.once("close", () => ticket.release());
    decided.then((decision) => {
      if ("accept" in decision) {
        wss.handleUpgrade(req, socket, head, (ws) => {
          answered.set(ws, true);
          const heard = () => answered.set(ws, true);
          ws.on("pong", heard);
          ws.on("message", heard);
          decision.accept(ws as unknown as WebSocketLike, admitted(ws, ticket as Ticket));
        });
      } else {
        if (!("refused" in ticket)) ticket.release();
        const body = JSON.stringify(decision.body);
        socket.end(
          `HTTP/1.1 ${decision.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${
            new TextEncoder().encode(body).length
          }\r\nconnection: close\r\n\r\n${body}`,
        );
      }
    }, () => socket.destroy());
  });
  return {
    host,
    port: listening.port,
    close: () => {
      clearInterval(keepAlive);
      for (const c of wss.clients) c.terminate();
      wss.close();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      return listening.close();
    },
  };
}
