/**
 * The editor's own origin: a listener of its own (its own port, where the
 * dashboard's is bound) that serves run editors and nothing else — not the
 * API, not the dashboard. code-server's pages run scripts of their own (an
 * extension, a rendered file of the tree); on this origin they cannot reach
 * the dashboard's IndexedDB (its signing key) nor its pages, and the API
 * answers them only as the stranger they are.
 *
 * A session arrives as `/v1/editor/<id>/?ticket=…` (editor-routes.ts makes
 * the URL): the ticket is exchanged once for an HttpOnly cookie scoped to
 * the session's path on this origin, and the browser is redirected to the
 * same address without it. Every request and WebSocket under the path is
 * checked again (editor-sessions.ts) and proxied to the pod through the
 * cluster's API (the editor's connect()); everything else is 404.
 */
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { WebSocket } from "ws";
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { MAX_FRAME_BYTES, type WebSocketLike } from "#protocol/sync";
import { errorBody, HttpError, statusOf } from "./errors.ts";
import { admitted, type EditorAccess, SESSION_MS } from "./editor-sessions.ts";
import type { Upgrade } from "../http/serve.ts";

export const EDITOR_PREFIX = "/v1/editor/";
const COOKIE = "weft-editor";
/** The query parameter carrying a session's ticket. */
export const TICKET_PARAM = "ticket";
/** Request headers not passed to the editor: hop-by-hop ones, and this origin's own credential. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "authorization",
  "cookie",
]);

/** The session id of a path under the prefix and the rest of the path (at least "/"), or undefined. */
function sessionPath(pathname: string): { id: string; rest: string } | undefined {
  const m = /^\/v1\/editor\/([0-9a-f]{32})(\/.*)?$/.exec(pathname);
  return m ? { id: m[1], rest: m[2] ?? "/" } : undefined;
}

/** The value of cookie `name` in a Cookie header. */
function cookieValue(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** The editor origin's HTTP side: ticket exchange, then every request checked and proxied. */
export function createEditorApp(access: EditorAccess): Hono {
  const app = new Hono();
  app.onError((err, c) => c.json(errorBody(err), statusOf(err) as 400));
  app.notFound((c) =>
    c.json({
      error: { code: "not-found", message: `this is a run editor's origin: it serves only ${EDITOR_PREFIX}<session>/` },
    }, 404)
  );
  app.all(`${EDITOR_PREFIX}:session`, (c) => {
    const url = new URL(c.req.url);
    return c.redirect(`${EDITOR_PREFIX}${c.req.param("session")}/${url.search}`, 308);
  });
  app.all(`${EDITOR_PREFIX}:session/*`, async (c) => {
    const url = new URL(c.req.url);
    const at = sessionPath(url.pathname);
    if (!at) throw new HttpError(404, "not-found", `no editor session at ${url.pathname}`);
    const ticket = url.searchParams.get(TICKET_PARAM);
    if (ticket !== null) return exchange(access, at.id, ticket, url);
    const editor = admitted(access, at.id, getCookie(c, COOKIE));
    return await proxy(c, editor, at.rest + url.search);
  });
  return app;
}

/**
 * Exchange a session's ticket for its cookie and send the browser to the
 * same address without the ticket (so it leaves the address bar and the
 * history, and no Referer carries it).
 */
function exchange(access: EditorAccess, id: string, ticket: string, url: URL): Response {
  const secret = access.sessions.redeem(id, ticket);
  if (!secret) {
    throw new HttpError(
      403,
      "editor/forbidden",
      "this editor link was used already or is too old (a link works once, within a minute): open the editor again",
    );
  }
  url.searchParams.delete(TICKET_PARAM);
  const path = `${EDITOR_PREFIX}${id}/`;
  return new Response(null, {
    status: 303,
    headers: {
      location: url.pathname + url.search,
      "set-cookie": `${COOKIE}=${secret}; Path=${path}; Max-Age=${
        Math.floor(SESSION_MS / 1000)
      }; HttpOnly; SameSite=Strict`,
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
}

/** Send the request to the editor and stream its answer back. */
async function proxy(c: Context, editor: { connect(): Promise<Duplex> }, path: string): Promise<Response> {
  const headers: Record<string, string> = { host: "localhost" };
  c.req.raw.headers.forEach((v, k) => {
    if (!DROPPED.has(k)) headers[k] = v;
  });
  const body = c.req.raw.body && !["GET", "HEAD"].includes(c.req.method)
    ? Readable.fromWeb(c.req.raw.body as import("node:stream/web").ReadableStream)
    : undefined;
  const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    // Each request its own connection: a fresh port-forward to the pod.
    const req = httpRequest({
      createConnection: (_o, made) => {
        editor.connect().then((socket) => made(null, socket), (e) => req.destroy(e));
        return undefined;
      },
      method: c.req.method,
      path,
      headers,
    });
    req.once("response", resolve);
    req.once("error", reject);
    if (body) body.pipe(req);
    else req.end();
  }).catch((e) => {
    throw new HttpError(
      503,
      "editor/starting",
      `the editor does not answer yet (${(e as Error).message}); retry shortly`,
    );
  });
  const out = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined || DROPPED.has(k) || k === "set-cookie") continue;
    out.set(k, Array.isArray(v) ? v.join(", ") : v);
  }
  const stream = c.req.method === "HEAD" || res.statusCode === 204 || res.statusCode === 304
    ? null
    : Readable.toWeb(res) as ReadableStream;
  if (!stream) res.resume();
  return new Response(stream, { status: res.statusCode ?? 502, headers: out });
}

/**
 * The editor origin's WebSockets (the workbench talks to code-server over
 * one): admitted like any request of the session; code-server's side is
 * opened over a fresh port-forward before the client's is accepted (so the
 * client sees code-server's refusal, if any), then the two are joined frame
 * for frame. Any other path is refused.
 */
export function editorUpgrade(access: EditorAccess): Upgrade {
  return async (url, headers) => {
    try {
      const at = sessionPath(url.pathname);
      if (!at) throw new HttpError(404, "not-found", `no editor session at ${url.pathname}`);
      const editor = admitted(access, at.id, cookieValue(headers.get("cookie"), COOKIE));
      const conn = await editor.connect().catch((e) => {
        throw new HttpError(503, "editor/starting", `the editor does not answer yet (${(e as Error).message}); retry`);
      });
      const pod = new WebSocket(`ws://localhost${at.rest}${url.search}`, {
        createConnection: () => conn as Socket,
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_BYTES,
      });
      await new Promise<void>((resolve, reject) => {
        pod.once("open", () => resolve());
        pod.once("unexpected-response", (_req, res) => {
          res.resume();
          pod.terminate();
          reject(new HttpError(502, "editor/starting", `the editor refused the WebSocket (${res.statusCode})`));
        });
        pod.once(
          "error",
          (e) => reject(new HttpError(503, "editor/starting", `the editor's WebSocket failed: ${e.message}`)),
        );
      });
      return { accept: (client, admit) => join(client, admit, pod) };
    } catch (e) {
      return { status: statusOf(e), body: errorBody(e) };
    }
  };
}

/** Join the client's WebSocket to code-server's, frame for frame (text stays text). */
function join(client: WebSocketLike, admit: () => void, pod: WebSocket): void {
  admit();
  client.addEventListener("message", (e) => pod.send(e.data as string | Uint8Array));
  client.addEventListener("close", () => pod.close());
  pod.on("message", (data: Buffer, binary: boolean) => client.send(binary ? data : data.toString()));
  pod.on("close", () => client.close());
  pod.on("error", () => client.close(1011, "the editor's connection failed"));
}
