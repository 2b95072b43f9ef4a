/**
 * The HTTP API: a hono app, a thin shell over a WeftNode. Each route in
 * routes.ts is authorized by the mesh's own verifier (auth.ts), its input
 * checked by the route's schema, and its work done by the node. Errors are
 * always `{"error": {"code", "message"}}` with a fitting status.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { WeftNode } from "#protocol/node";
import { type Space, type Standing, standingOf } from "#protocol/space";
import { concatBytes, fromUtf8, utf8 } from "#protocol";
import { InvalidInput } from "#protocol/schema";
import { Commands, delegate, type Delegation, encodeContainer, type Ipld } from "#protocol/ucan";
import type { Hlc, Task, TaskStatus } from "#protocol/tasks";
import type { LiveAdvert } from "#protocol/capacity";
import { ApiAuthority } from "./auth.ts";
import { boundExpiry, boundGrant } from "./grant.ts";
import { errorBody, HttpError, statusOf } from "./errors.ts";
import { HEADS_AT_HEADER, HEADS_HEADER, matchRoute, type RouteDef, ROUTES } from "./routes.ts";
import { openApiDocument } from "./openapi.ts";
import { SPACE_COMMANDS } from "./credentials.ts";
import { listPods, podOf, type PodState, runLog, type Scheduler } from "#protocol/scheduler";
import type { ArtifactService } from "../artifacts/service.ts";
import { mountArtifactRoutes } from "./artifact-routes.ts";
import type { Observer } from "../daemon/tracing.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiContext {
  node: WeftNode;
  auth: ApiAuthority;
  name: string;
  version: string;
  /** Prometheus text for /metrics. */
  metrics(): string;
  ready(): boolean;
  /** Connect to a peer and keep reconnecting (multiaddr or ws:// URL). */
  connect(address: string): Promise<void>;
  /** This node's own capacity right now, if it advertises. */
  capacity?(): LiveAdvert | undefined;
  /** The node's scheduler, for its runs and their logs. */
  scheduler?: Scheduler;
  /** The node's artifacts, served under /v1/spaces/:space/artifacts. */
  artifacts?: ArtifactService;
  /** The dashboard's files, served at every path the API does not claim. */
  dashboard?(pathname: string): Promise<Response>;
  log?(msg: string, fields: Record<string, unknown>): void;
  /** Correlation ids and traces for each request (peer/daemon/tracing.ts). */
  observer?: Observer;
}

type Handler = (
  c: Context,
  x: {
    params: Record<string, string>;
    body: unknown;
    query: Record<string, string>;
    space?: Space;
    /** For query routes: the caller's proof chain, root first (what it holds). */
    chain?: readonly Delegation[];
    /** For operation routes: the signed operation, checked against its route. */
    op?: Awaited<ReturnType<ApiAuthority["op"]>>;
  },
) => Promise<Response> | Response;

type OpRoute = RouteDef & { auth: { kind: "op" } };

/** A delegation a caller asks this node to sign. */
interface Grant {
  audience: string;
  command: string;
  policy?: Ipld[];
  expiration?: number;
  name?: string;
  kind?: "member" | "device" | "agent";
}

function spaceView(s: Space, node: WeftNode) {
  const [chain] = s.authority.chainsFor(node.did, SPACE_COMMANDS, Math.floor(Date.now() / 1000));
  return {
    id: s.id,
    name: s.name,
    url: s.url,
    tasks: s.log.reducer.tasks.size,
    members: s.members().length,
    documents: s.documentIds.length,
    /** This node's delegation chain in the space (CIDs, root first): what its API clients build on. */
    chain: (chain ?? []).map((d) => d.cid.toString()),
    /** Whether this node is still a member: revoked (by whom, when) or expired says why it no longer syncs. */
    standing: standingView(standingOf(s.authority, node.did, Commands.spaceSync, Date.now())),
  };
}

/** A standing as the API shows it (the records stay inside the node). */
function standingView(st: Standing): Omit<Standing, "records"> {
  if (st.state !== "revoked") return st;
  const { records: _records, ...rest } = st;
  return rest;
}

/** Principals cut off from the space by a revocation or an expiry: who, and (when revoked) by whom and when. */
function removed(s: Space): Array<{ did: string; name?: string } & Omit<Standing, "records">> {
  const now = Date.now();
  const members = new Set(s.members().map((m) => m.did));
  const out = new Map<string, { did: string; name?: string } & Omit<Standing, "records">>();
  for (const d of s.authority.delegations) {
    if (members.has(d.aud) || out.has(d.aud) || d.aud === s.id) continue;
    const st = standingOf(s.authority, d.aud, Commands.spaceSync, now);
    if (st.state !== "revoked" && st.state !== "expired") continue;
    const name = typeof d.meta?.name === "string" ? { name: d.meta.name } : {};
    out.set(d.aud, { did: d.aud, ...name, ...standingView(st) });
  }
  return [...out.values()];
}

/** Who revoked a delegation, and when (if the record says). */
function revokedBy(s: Space, cid: string): { revokedBy?: string; revokedAt?: number } {
  const r = [...s.authority.revocations].find((x) => x.revoked.toString() === cid);
  if (!r) return {};
  return { revokedBy: r.revoker, ...(r.invocation.iat !== undefined ? { revokedAt: r.invocation.iat * 1000 } : {}) };
}

export function createApi(ctx: ApiContext): Hono {
  const { node } = ctx;
  const app = new Hono();

  const handlers: Record<string, Handler> = {
    "GET /healthz": (c) => c.json({ ok: true }),
    "GET /readyz": (c) => (ctx.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)),
    "GET /metrics": (c) => c.text(ctx.metrics(), 200, { "content-type": "text/plain; version=0.0.4" }),
    "GET /openapi.json": (c) => c.json(openApiDocument(ctx.version)),

    "GET /v1/node": (c) =>
      c.json({
        did: node.did,
        name: ctx.name,
        version: ctx.version,
        peerId: node.libp2p?.peerId.toString() ?? null,
        addresses: node.libp2p?.getMultiaddrs().map(String) ?? [],
        spaces: node.spaces().length,
      }),
    "GET /v1/peers": (c) =>
      c.json({
        peers: (node.libp2p?.getPeers() ?? []).map((p) => ({
          peerId: p.toString(),
          addresses: node.libp2p!.getConnections(p).map((conn) => conn.remoteAddr.toString()),
        })),
      }),
    "POST /v1/peers": async (c, { body }) => {
      const { address } = body as { address: string };
      await ctx.connect(address);
      return c.json({ connecting: address }, 202);
    },
    "GET /v1/capacity": (c) => {
      const adverts = new Map<string, LiveAdvert>();
      for (const s of node.spaces()) for (const a of node.gossip(s.id)?.adverts() ?? []) adverts.set(a.node, a);
      const own = ctx.capacity?.();
      if (own) adverts.set(own.node, own);
      return c.json({ nodes: [...adverts.values()] });
    },
    "GET /v1/spaces": (c) => c.json({ spaces: node.spaces().map((s) => spaceView(s, node)) }),
    "POST /v1/spaces": async (c, { body }) => {
      const { name, graceSeconds } = body as { name: string; graceSeconds?: number };
      return c.json(spaceView(await node.createSpace(name, { graceSeconds }), node), 201);
    },
    "POST /v1/spaces/join": async (c, { body }) => {
      const { invite, peers = [] } = body as { invite: string; peers?: string[] };
      for (const p of peers) await ctx.connect(p);
      const space = await node.join(invite, { signal: AbortSignal.timeout(30_000) }).catch((e) => {
        if (e?.name === "TimeoutError") {
          throw new HttpError(
            504,
            "join/timeout",
            "no member accepted this node within 30 s; connect to a member first",
          );
        }
        throw e;
      });
      return c.json(spaceView(space, node), 201);
    },

    "GET /v1/spaces/:space": (c, { space }) => c.json(spaceView(space!, node)),
    "GET /v1/spaces/:space/members": (c, { space }) => c.json({ members: space!.members(), removed: removed(space!) }),
    "GET /v1/spaces/:space/diagnostics": (c, { space }) =>
      c.json({ refusals: node.diagnostics.refusals({ space: space!.id }), counters: node.diagnostics.counters() }),
    "GET /v1/spaces/:space/tasks": (c, { space, query }) =>
      c.json({
        tasks: space!.tasks({
          ...(query.status ? { status: query.status as TaskStatus } : {}),
          ...(query.label ? { labels: [query.label] } : {}),
          ...(query.assignee ? { assignee: query.assignee } : {}),
          ...(query.runnable ? { runnable: query.runnable === "true" } : {}),
          ...(query.text ? { text: query.text } : {}),
          ...(query.limit ? { limit: Number(query.limit) } : {}),
        }),
      }),
    "GET /v1/spaces/:space/tasks/:task": (c, { space, params }) => {
      const t = space!.task(params.task);
      if (!t) throw new HttpError(404, "not-found", `no task ${params.task} in this space`);
      return c.json(t);
    },
    "GET /v1/spaces/:space/graph": (c, { space }) => {
      const tasks = space!.tasks();
      return c.json({
        nodes: tasks.map((t) => ({ id: t.id, title: t.title, status: t.effectiveStatus, runnable: t.runnable })),
        edges: tasks.flatMap((t) => t.deps.map((d) => ({ from: t.id, to: d }))),
      });
    },
    "GET /v1/spaces/:space/pods": (c, { space, query }) =>
      c.json({
        pods: listPods(space!, Date.now(), (t) => ctx.scheduler?.run(space!.id, t), {
          ...(query.state ? { state: query.state as PodState } : {}),
          ...(query.node ? { node: query.node } : {}),
          ...(query.limit ? { limit: Number(query.limit) } : {}),
        }),
      }),
    "GET /v1/spaces/:space/pods/:task": (c, { space, params }) => {
      const task = runTask(space!, params.task);
      return c.json(podOf(space!.id, task, Date.now(), ctx.scheduler?.run(space!.id, task.id)));
    },
    "GET /v1/spaces/:space/pods/:task/logs": (c, { space, params, query }) => {
      const task = runTask(space!, params.task);
      const signal = c.req.raw.signal;
      const lines = runLog(node, ctx.scheduler, space!.id, task, query.follow === "true", signal)[
        Symbol.asyncIterator
      ]();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await lines.next();
            if (next.done) controller.close();
            else controller.enqueue(utf8(JSON.stringify(next.value) + "\n"));
          } catch (e) {
            // The log's source went away mid-stream: say so in-band, then end.
            const line = { stream: "system", at: Date.now(), text: `log interrupted: ${(e as Error).message}` };
            controller.enqueue(utf8(JSON.stringify(line) + "\n"));
            controller.close();
          }
        },
        cancel() {
          void lines.return?.(undefined);
        },
      });
      return new Response(body, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
    },
    "POST /v1/spaces/:space/invites": async (c, { space, body, chain }) => {
      const b = body as { audience?: string; command?: string; expiration?: number; name?: string; peers?: string[] };
      const command = b.command ?? Commands.all;
      const bounds = boundGrant(chain!, { command, expiration: b.expiration });
      const invite = await node.invite(space!.id, { ...b, command, ...bounds });
      return c.json({ invite }, 201);
    },
    "GET /v1/spaces/:space/capabilities": (c, { space }) =>
      c.json({
        capabilities: [...space!.authority.delegations].map((d) => ({
          cid: d.cid.toString(),
          iss: d.iss,
          aud: d.aud,
          sub: d.sub,
          cmd: d.cmd,
          pol: d.pol.source,
          exp: d.exp,
          meta: d.meta ?? {},
          revoked: space!.authority.isRevoked(d.cid),
          ...revokedBy(space!, d.cid.toString()),
        })),
      }),
    "POST /v1/capabilities": async (c, { body, chain: held }) => {
      const b = body as Grant;
      const d = await delegate({
        issuer: node.signer,
        audience: b.audience,
        subject: null,
        command: b.command,
        policy: b.policy,
        expiration: boundExpiry(held!, b.expiration),
        meta: { kind: b.kind ?? "device", ...(b.name ? { name: b.name } : {}) },
      });
      // What the holder needs to act in each space: the node's chain there, then the powerline.
      const now = Math.floor(Date.now() / 1000);
      const chains: Record<string, string[]> = {};
      const carried = new Map<string, Uint8Array>([[d.cid.toString(), d.bytes]]);
      for (const s of node.spaces()) {
        const [chain] = s.authority.chainsFor(node.did, b.command, now);
        if (!chain) continue;
        chains[s.id] = [...chain, d].map((x) => x.cid.toString());
        for (const x of chain) carried.set(x.cid.toString(), x.bytes);
      }
      const container = await encodeContainer([...carried.values()], "C");
      return c.json({ cid: d.cid.toString(), chains, container }, 201);
    },
    "POST /v1/spaces/:space/capabilities": async (c, { space, body, chain: held }) => {
      const b = body as Grant & { powerline?: boolean };
      if (b.powerline) {
        throw new HttpError(
          403,
          "cap/node-wide",
          "a powerline acts in every space this node is in, so one space's admin right cannot make it: " +
            "ask POST /v1/capabilities with a bearer proving /weft/node/admin (weft cap delegate --powerline)",
        );
      }
      const s = space!;
      const bounds = boundGrant(held!, b);
      const [chain] = s.authority.chainsFor(node.did, b.command, Math.floor(Date.now() / 1000));
      if (!chain) throw new HttpError(403, "cap/missing", `this node cannot delegate ${b.command}`);
      const d = await delegate({
        issuer: node.signer,
        audience: b.audience,
        subject: s.id,
        command: b.command,
        ...bounds,
        meta: { kind: b.kind ?? "member", ...(b.name ? { name: b.name } : {}) },
      });
      await s.addDelegations([d, ...chain]);
      const container = await encodeContainer([...chain, d].map((x) => x.bytes), "C");
      return c.json({ cid: d.cid.toString(), chain: [...chain, d].map((x) => x.cid.toString()), container }, 201);
    },
    "DELETE /v1/spaces/:space/capabilities/:cid": async (c, { space, params, body }) => {
      const { voidSince } = (body ?? {}) as { voidSince?: number };
      await space!.revoke(params.cid, voidSince === undefined ? {} : { voidSince: [voidSince, 0] });
      return c.json({ revoked: params.cid, ...(voidSince === undefined ? {} : { voidSince }) });
    },
  };

  // Each request in its own scope: a correlation id (echoed as x-request-id) and, if traced, a span.
  app.use(async (c, next) => {
    if (!ctx.observer) return await next();
    const route = matchRoute(c.req.method, c.req.path)?.route.path ?? "other";
    await ctx.observer.request(c.req.method, route, c.req.header("x-request-id"), async (id) => {
      await next();
      try {
        c.res.headers.set("x-request-id", id);
      } catch {
        // an immutable response (e.g. a proxied stream): the id is still in the logs and the trace
      }
      return c.res.status;
    });
  });
  // Refused before its body was read: close the connection instead of reading (or draining) the rest.
  app.use(async (c, next) => {
    await next();
    if (c.res.status >= 400 && mayHaveBody(c)) c.res.headers.set("connection", "close");
  });
  app.onError((err, c) => {
    const status = statusOf(err);
    if (status >= 500) ctx.log?.("request failed", { path: c.req.path, error: String(err?.stack ?? err) });
    return c.json(errorBody(err), status as 400);
  });
  app.notFound((c) => {
    const path = c.req.path;
    if (ctx.dashboard && c.req.method === "GET" && !path.startsWith("/v1/")) return ctx.dashboard(path);
    return c.json({ error: { code: "not-found", message: `no route ${c.req.method} ${path}` } }, 404);
  });

  for (const route of ROUTES) {
    if (route.websocket) continue; // served by the runtime's WebSocket glue
    const key = `${route.method} ${route.path}`;
    const handler = route.auth.kind === "op" ? opHandler(ctx, route as OpRoute) : handlers[key];
    if (!handler) throw new Error(`no handler for ${key}`);
    app.on(route.method, route.path, async (c) => await dispatch(ctx, route, handler, c));
  }
  if (ctx.artifacts) mountArtifactRoutes(app, { auth: ctx.auth, artifacts: ctx.artifacts });
  return app;
}

/** A task that is a run, or 404. */
function runTask(space: Space, id: string): Task & { run: NonNullable<Task["run"]> } {
  const task = space.task(id);
  if (!task?.run) throw new HttpError(404, "not-found", `no run ${id} in this space`);
  return task as Task & { run: NonNullable<Task["run"]> };
}

/**
 * The request's body, read as it streams and refused with 413 as soon as it
 * passes MAX_BODY_BYTES: a body is never held beyond the limit, whatever
 * its content-length says (or whether it says anything).
 */
async function readBody(c: Context): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, "input/too-large", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    reader.releaseLock(); // not cancel: that would tear down the connection before the 413 is sent
  }
  return concatBytes(...chunks);
}

/** A request that may still have body bytes on the wire. */
function mayHaveBody(c: Context): boolean {
  return c.req.header("transfer-encoding") !== undefined || Number(c.req.header("content-length") ?? 0) > 0;
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    throw new InvalidInput("body", "must be JSON");
  }
}

async function dispatch(ctx: ApiContext, route: RouteDef, handler: Handler, c: Context): Promise<Response> {
  const url = new URL(c.req.url);
  const params = c.req.param() as Record<string, string>;
  const query = Object.fromEntries(url.searchParams);
  if (route.query) route.query(query, "query");
  else if (url.search && route.auth.kind !== "op") {
    // No query parameters are defined here: refuse rather than silently ignore them.
    throw new InvalidInput("query", "this route takes no query parameters");
  }
  const withHeads = (res: Response) => {
    const known = params.space === undefined ? undefined : ctx.node.space(params.space);
    if (known) headsHeaders(res, known);
    return res;
  };
  // Credentials are checked before any body is read: a stranger's upload costs nothing.
  if (route.auth.kind === "op") {
    const op = await ctx.auth.op(c.req.header("authorization"), route as OpRoute, params);
    return withHeads(await handler(c, { params, body: parseJson(await readBody(c)), query, op }));
  }
  let raw: Uint8Array | undefined;
  const body = async () => (raw ??= await readBody(c));
  let space: Space | undefined;
  let chain: readonly Delegation[] | undefined;
  if (route.auth.kind === "query") {
    ({ space, chain } = await ctx.auth.query(
      c.req.header("authorization"),
      route as RouteDef & { auth: { kind: "query" } },
      params,
      { method: route.method, path: url.pathname + url.search, body },
    ));
  }
  const json = parseJson(await body());
  let checked: unknown;
  if (route.body) checked = route.body(json ?? {}, "body");
  else if (json !== undefined) throw new InvalidInput("body", "this route takes no body");
  return withHeads(await handler(c, { params, body: checked, query, space, chain }));
}

/**
 * What the space's log holds now, for clients that sign operations: they
 * name these heads as what their next operation follows (see
 * protocol/README.md, "Time").
 */
function headsHeaders(res: Response, space: Space): void {
  const heads = space.log.heads(); // newest first
  const at: Hlc = (heads.length > 0 && space.log.timeOf(heads[0])) || [0, 0];
  try {
    res.headers.set(HEADS_HEADER, heads.join(","));
    res.headers.set(HEADS_AT_HEADER, `${at[0]}.${at[1]}`);
  } catch {
    // an immutable response (e.g. a proxied stream): heads are only a hint
  }
}

function opHandler(ctx: ApiContext, route: OpRoute): Handler {
  return async (c, { body, op }) => {
    const { space, bytes, invocation, proofs } = op!;
    if (body !== undefined) {
      // A body, if sent, must say the same as the signed operation.
      const args = invocation.args as Record<string, unknown>;
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (JSON.stringify(args[k]) !== JSON.stringify(v)) {
          throw new InvalidInput(`body.${k}`, "differs from the signed operation");
        }
      }
    }
    const args = invocation.args as Record<string, unknown>;
    const runRoute = route.path.endsWith("/schedule") || route.path.endsWith("/evict");
    if (route.path.endsWith("/schedule") && args.run === undefined) {
      throw new InvalidInput("args.run", "is required: a run is a task with a run spec");
    }
    if (route.path.endsWith("/evict") && !space.log.reducer.tasks.get(String(args.task))?.run) {
      throw new HttpError(404, "not-found", `${args.task} is not a run; cancel a task with its cancel route`);
    }
    const key = args.idempotencyKey;
    const first = route.auth.op === "create" && typeof key === "string"
      ? space.log.reducer.byIdempotencyKey(invocation.iss, key)
      : undefined;
    const submit = () => space.submit(bytes, proofs);
    const task = ctx.observer
      ? await ctx.observer.step(
        "space.submit",
        { "weft.space": space.id, "weft.task": String(args.task), "weft.op": route.auth.op },
        submit,
        route.path.endsWith("/schedule") ? `${space.id} ${String(args.task)}` : undefined,
      )
      : await submit();
    const status = route.auth.op === "create" && !first ? 201 : 200;
    if (!runRoute) return c.json(task, status);
    return c.json(podOf(space.id, task as Task & { run: NonNullable<Task["run"]> }, Date.now()), status);
  };
}
