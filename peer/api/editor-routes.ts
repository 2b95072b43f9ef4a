/**
 * The way into a run's editor (a code-server pod a run asked for, made by
 * the kubernetes bridge on this peer): only through this peer's API, and
 * only for the task's holder and creator and the space's reviewers.
 *
 * `POST /v1/spaces/:space/tasks/:task/editor` is a UCAN-authorized query
 * like every other; its handler decides who may look (mayOpenEditor) and
 * answers with a session: a path `/v1/editor/<id>/` and a cookie scoped to
 * it holding a random secret. A browser's page and its assets then carry
 * the cookie, not a bearer. Every request under the path checks the secret
 * and asks again whether its caller may look — a revoked reviewer is out at
 * the next request — and is proxied to the pod through the cluster's API
 * (the editor's connect()). Everyone else gets 403; a session for a run
 * whose editor is gone gets 410.
 */
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { WebSocket } from "ws";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { MAX_FRAME_BYTES, type WebSocketLike } from "#protocol/sync";
import type { ApiContext } from "./app.ts";
import { dispatch, type Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";
import { EDITOR_ROUTES } from "./routes.ts";

/** A run's editor as this peer reaches it (bridges/kubernetes/editor/editors.ts). */
export interface EditorLookup {
  find(space: string, task: string): { connect(): Promise<Duplex> } | undefined;
}

/** How long a session lasts (its cookie too); the editor going away ends it sooner. */
const SESSION_MS = 60 * 60 * 1000;
/** The most sessions kept; the oldest is dropped past it. */
const MAX_SESSIONS = 1024;
const COOKIE = "weft-editor";
const PREFIX = "/v1/editor/";
/** Request headers not passed to the editor: hop-by-hop ones, and this peer's own credentials. */
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

interface Session {
  space: string;
  task: string;
  caller: string;
  secret: Buffer;
  expires: number;
}

/**
 * May `did` look at the editor of `task`? Its holder (the lease), its
 * creator (who asked for the run), and whoever holds /weft/patch/review in
 * the space, as the space's verified delegations say now.
 */
export function mayOpenEditor(space: Space, task: string, did: string, nowMs = Date.now()): boolean {
  const t = space.task(task);
  if (!t) return false;
  if (t.creator === did || t.lease?.holder === did) return true;
  return space.authority.chainsFor(did, Commands.patchReview, Math.floor(nowMs / 1000)).length > 0;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();

export class EditorSessions {
  readonly #sessions = new Map<string, Session>();

  open(space: string, task: string, caller: string): { id: string; secret: string; expires: number } {
    const now = Date.now();
    for (const [id, s] of this.#sessions) if (s.expires <= now) this.#sessions.delete(id);
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const id = randomBytes(16).toString("hex");
    const secret = randomBytes(32);
    const expires = now + SESSION_MS;
    this.#sessions.set(id, { space, task, caller, secret: sha256(secret), expires });
    return { id, secret: secret.toString("base64url"), expires };
  }

  /** The session `id` if `secret` is its own and it has not expired. */
  check(id: string, secret: string | undefined): Session | undefined {
    const s = this.#sessions.get(id);
    if (!s || !secret || s.expires <= Date.now()) return undefined;
    return timingSafeEqual(sha256(Buffer.from(secret, "base64url")), s.secret) ? s : undefined;
  }

  drop(id: string): void {
    this.#sessions.delete(id);
  }
}

/** The value of cookie `name` in a Cookie header. */
function cookieValue(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/**
 * The editor a request under /v1/editor/<id>/ may reach: its session's secret
 * matches, it has not expired, its caller may still look, its editor is still
 * there. Throws the HttpError to answer otherwise.
 */
function admitted(ctx: Pick<ApiContext, "node" | "editors">, sessions: EditorSessions, id: string, secret?: string) {
  const session = sessions.check(id, secret);
  const space = session && ctx.node.space(session.space);
  if (!session || !space || !mayOpenEditor(space, session.task, session.caller)) {
    if (session) sessions.drop(id);
    throw new HttpError(403, "editor/forbidden", "open the editor first: POST /v1/spaces/:space/tasks/:task/editor");
  }
  const editor = editorsOf(ctx).find(session.space, session.task);
  if (!editor) {
    sessions.drop(id);
    throw new HttpError(410, "editor/gone", `the editor of task ${session.task} is gone: its run ended`);
  }
  return editor;
}

/** The session id of a path under PREFIX and the rest of the path (at least "/"), or undefined. */
function sessionPath(pathname: string): { id: string; rest: string } | undefined {
  const m = /^\/v1\/editor\/([0-9a-f]{32})(\/.*)?$/.exec(pathname);
  return m ? { id: m[1], rest: m[2] ?? "/" } : undefined;
}

/**
 * A WebSocket under /v1/editor/<id>/ (the workbench talks to code-server over
 * one): admitted like any request of the session; code-server's side is
 * opened over a fresh port-forward before the client's is accepted (so the
 * client sees code-server's refusal, if any), then the two are joined frame
 * for frame. Undefined for a path that is not the editor's.
 */
export async function editorUpgrade(
  ctx: Pick<ApiContext, "node" | "editors">,
  sessions: EditorSessions,
  url: URL,
  headers: Headers,
): Promise<{ accept: (socket: WebSocketLike, admit: () => void) => void } | undefined> {
  const at = sessionPath(url.pathname);
  if (!at) return undefined;
  const editor = admitted(ctx, sessions, at.id, cookieValue(headers.get("cookie"), COOKIE));
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

function editorsOf(ctx: Pick<ApiContext, "editors">): EditorLookup {
  if (!ctx.editors) throw new HttpError(404, "not-found", "this peer runs no cluster bridge that makes editors");
  return ctx.editors;
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

/** Register the editor routes on the API's hono app. */
export function mountEditorRoutes(app: Hono, ctx: ApiContext, sessions: EditorSessions): void {
  const open: Handler = (c, { space, params, caller }) => {
    const editors = editorsOf(ctx);
    if (!space!.task(params.task)) throw new HttpError(404, "not-found", `no task ${params.task} in this space`);
    if (!caller || !mayOpenEditor(space!, params.task, caller)) {
      throw new HttpError(
        403,
        "editor/forbidden",
        "only the task's holder and creator, and the space's reviewers (/weft/patch/review), may open its editor",
      );
    }
    if (!editors.find(space!.id, params.task)) {
      throw new HttpError(404, "not-found", `task ${params.task} has no editor running on this peer's clusters`);
    }
    const s = sessions.open(space!.id, params.task, caller);
    const path = `${PREFIX}${s.id}/`;
    c.header(
      "set-cookie",
      `${COOKIE}=${s.secret}; Path=${path}; Max-Age=${Math.floor(SESSION_MS / 1000)}; HttpOnly; SameSite=Strict`,
    );
    return c.json({ path, expires: new Date(s.expires).toISOString() }, 201);
  };
  for (const route of EDITOR_ROUTES) {
    app.on(route.method, route.path, async (c) => await dispatch(ctx, route, open, c));
  }
  const serveEditor = async (c: Context) => {
    const url = new URL(c.req.url);
    const at = sessionPath(url.pathname);
    if (!at) throw new HttpError(404, "not-found", `no editor session at ${url.pathname}`);
    const editor = admitted(ctx, sessions, at.id, getCookie(c, COOKIE));
    return await proxy(c, editor, at.rest + url.search);
  };
  app.all(`${PREFIX}:session`, (c) => c.redirect(`${PREFIX}${c.req.param("session")}/`, 308));
  app.all(`${PREFIX}:session/*`, serveEditor);
}
