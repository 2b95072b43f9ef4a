/**
 * The HTTP API: a hono app, a thin shell over a WeftNode. Each route in
 * routes.ts is authorized by the mesh's own verifier (auth.ts), its input
 * checked by the route's schema, and its work done by the node. Errors are
 * always `{"error": {"code", "message"}}` with a fitting status.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { WeftNode } from "#protocol/node";
import type { Space } from "#protocol/space";
import { ndjsonResponse } from "./ndjson.ts";
import { Commands, delegate, encodeContainer, type Ipld } from "#protocol/ucan";
import { PAIRING_META, pairingProof } from "#protocol/bridge";
import type { Task, TaskStatus } from "#protocol/tasks";
import type { LiveAdvert } from "#protocol/capacity";
import { ApiAuthority } from "./auth.ts";
import { boundExpiry, boundGrant } from "./grant.ts";
import { errorBody, HttpError, statusOf } from "./errors.ts";
import { matchRoute, ROUTES } from "./routes.ts";
import { openApiDocument } from "./openapi.ts";
import { cors } from "./cors.ts";
import { listPods, podOf, type PodState, runLog, type Scheduler } from "#protocol/scheduler";
import type { ArtifactService } from "../artifacts/service.ts";
import { mountArtifactRoutes } from "./artifact-routes.ts";
import { mountRepoRoutes } from "./repo-routes.ts";
import type { RepoService } from "../repo/repo-service.ts";
import { mountPatchRoutes } from "./patch-routes.ts";
import { mountApprovalRoutes } from "./approval-routes.ts";
import { dispatch, type Handler, mayHaveBody, opHandler, type OpRoute } from "./dispatch.ts";
import { removed, revokedBy, spaceView } from "./views.ts";
import { deviceInvites, pairingLink, Pairings } from "./pairing.ts";
import { mintSyncToken } from "./sync-tokens.ts";
import { invitesFor } from "./invites-for.ts";
import { peerDeviceName } from "../device-name.ts";
import type { Observer } from "../daemon/tracing.ts";
import type { Rotation } from "../daemon/cli-key.ts";
import type { Powerlines } from "../daemon/powerlines.ts";
import type { PeerAgents } from "../agents/peer-agents.ts";
import { agentHandlers } from "./agent-routes.ts";
import type { AgentLoops } from "../agents/loop/agent-loop.ts";
import { type EditorOrigin, mountEditorRoutes } from "./editor-routes.ts";
import { type EditorLookup, EditorSessions } from "./editor-sessions.ts";
import type { AgentAutoRun } from "../agents/loop/auto-run.ts";
import type { VirtualNodes } from "../../bridges/kubernetes/bridge.ts";
import { kubeHandlers } from "./kube-routes.ts";

export { MAX_BODY_BYTES } from "./dispatch.ts";

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
  /** The node's bare repositories, served under /v1/spaces/:space/repos. */
  repos?: RepoService;
  /** One-time pairing codes for browsers (a fresh table if not given). */
  pairings?: Pairings;
  /** The dashboard's files, served at every path the API does not claim. */
  dashboard?(pathname: string): Promise<Response>;
  log?(msg: string, fields: Record<string, unknown>): void;
  /** Correlation ids and traces for each request (peer/daemon/tracing.ts). */
  observer?: Observer;
  /** The local CLI's key, to rotate (peer/daemon/cli-key.ts). */
  cliKey?: { rotate(): Promise<Rotation> };
  /** Powerlines this node issued, kept to list and revoke node-wide (peer/daemon/powerlines.ts). */
  powerlines?: Pick<Powerlines, "record" | "list" | "revoke">;
  /** The agents this peer runs (peer/agents). */
  agents?: PeerAgents;
  /** The editors runs asked for on this peer's clusters (editor-routes.ts). */
  editors?: EditorLookup;
  /** Their sessions, shared with the editor's own origin (editor-origin.ts); a fresh table if not given. */
  editorSessions?: EditorSessions;
  /** Where the editor's own origin listens (none: this peer serves no editors). */
  editorOrigin?: EditorOrigin;
  /** The virtual nodes this peer's bridges run in clusters (kube-routes.ts). */
  virtualNodes?: VirtualNodes;
  /** Their loops on this peer (peer/agents/loop). */
  loops?: AgentLoops;
  /** The agents whose loops run by themselves on this peer. */
  autoRun?: AgentAutoRun;
}

/** A delegation a caller asks this node to sign. */
interface Grant {
  audience: string;
  command: string;
  policy?: Ipld[];
  expiration?: number;
  name?: string;
  kind?: "member" | "device" | "agent";
}

export function createApi(ctx: ApiContext): Hono {
  const { node } = ctx;
  const pairings = ctx.pairings ?? new Pairings();
  const app = new Hono();
  const keptPowerlines = () => {
    if (!ctx.powerlines) throw new HttpError(404, "not-found", "this node keeps no record of the powerlines it issued");
    return ctx.powerlines;
  };

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
      return c.json(spaceView(await node.createSpace(name, { graceSeconds, deviceName: peerDeviceName() }), node), 201);
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
      const lines = runLog(node, ctx.scheduler, space!.id, task, query.follow === "true", signal);
      // The log's source going away mid-stream is said in-band, as a last line.
      return ndjsonResponse(
        lines,
        (e) => ({ stream: "system", at: Date.now(), text: `log interrupted: ${e.message}` }),
      );
    },
    "POST /v1/spaces/:space/invites": async (c, { space, body, chain }) => {
      const b = body as { audience?: string; command?: string; expiration?: number; name?: string; peers?: string[] };
      const command = b.command ?? Commands.all;
      const bounds = boundGrant(chain!, { command, expiration: b.expiration });
      const invite = await node.invite(space!.id, { ...b, command, ...bounds });
      return c.json({ invite }, 201);
    },
    "POST /v1/pairings": (c) => {
      const { code, expiresAt } = pairings.mint();
      return c.json({ url: pairingLink(new URL(c.req.url).origin, code), expiresAt }, 201);
    },
    "POST /v1/pair": async (c, { body }) => {
      const { code, audience, name } = body as { code: string; audience: string; name?: string };
      pairings.redeem(code);
      return c.json({ invites: await deviceInvites(node.did, node.spaces(), audience, name, syncUrlOf(c)) }, 201);
    },
    "POST /v1/sessions": async (c, { body, raw }) =>
      c.json(await ctx.auth.openSession(c.req.header("authorization"), raw!, (body as { key: string }).key), 201),
    "GET /v1/identity": (c) => c.json({ did: node.did }),
    "GET /v1/invites": async (c) => {
      const url = new URL(c.req.url);
      const did = await ctx.auth.self(c.req.header("authorization"), Commands.inviteRead, {
        method: "GET",
        path: url.pathname + url.search,
      });
      return c.json({ invites: invitesFor(node.spaces(), did, syncUrlOf(c)) });
    },
    "POST /v1/spaces/:space/sync-tokens": async (c, { space, body, chain }) => {
      const minted = await mintSyncToken(space!, node.signer, chain!, body as { expiration?: number; name?: string });
      const url = `${syncUrlOf(c)}?token=${encodeURIComponent(minted.token)}`;
      return c.json({ ...minted, url, documentUrl: space!.url }, 201);
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
    "POST /v1/cli-key": async (c) => {
      if (!ctx.cliKey) throw new HttpError(404, "not-found", "this node issues no CLI credentials");
      return c.json(await ctx.cliKey.rotate(), 201);
    },
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
      // Kept before it is handed out, so the node can always list and revoke it.
      await ctx.powerlines?.record(d);
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
    "GET /v1/capabilities": (c) => c.json({ powerlines: keptPowerlines().list() }),
    "DELETE /v1/capabilities/:cid": async (c, { params }) => c.json(await keptPowerlines().revoke(params.cid)),
    "POST /v1/spaces/:space/capabilities": async (c, { space, body, chain: held }) => {
      const b = body as Grant & { powerline?: boolean; pairing?: string };
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
        meta: {
          kind: b.kind ?? "member",
          ...(b.name ? { name: b.name } : {}),
          ...(b.pairing ? { [PAIRING_META]: pairingProof(b.pairing, node.did) } : {}),
        },
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
    await ctx.observer.request(c.req, c.req.method, route, c.req.header("x-request-id"), async (id) => {
      await next();
      try {
        c.res.headers.set("x-request-id", id);
      } catch {
        // an immutable response (e.g. a proxied stream): the id is still in the logs and the trace
      }
      return c.res.status;
    });
  });
  app.use(cors());
  // Refused before its body was read: close the connection instead of reading (or draining) the rest.
  app.use(async (c, next) => {
    await next();
    if (c.res.status >= 400 && mayHaveBody(c)) c.res.headers.set("connection", "close");
  });
  app.onError((err, c) => {
    const status = statusOf(err);
    if (status >= 500) {
      const fields = ctx.observer?.fields(c.req) ?? {};
      ctx.log?.("request failed", { path: c.req.path, error: String(err?.stack ?? err), ...fields });
    }
    return c.json(errorBody(err), status as 400);
  });
  app.notFound((c) => {
    const path = c.req.path;
    if (ctx.dashboard && c.req.method === "GET" && !path.startsWith("/v1/")) return ctx.dashboard(path);
    return c.json({ error: { code: "not-found", message: `no route ${c.req.method} ${path}` } }, 404);
  });

  Object.assign(handlers, kubeHandlers(ctx.virtualNodes));
  if (ctx.agents) Object.assign(handlers, agentHandlers(node, ctx.agents, ctx.loops, ctx.autoRun));
  for (const route of ROUTES) {
    if (route.websocket) continue; // served by the runtime's WebSocket glue
    const key = `${route.method} ${route.path}`;
    if (!ctx.agents && route.path.startsWith("/v1/spaces/:space/agents")) continue; // this peer runs no agents
    const handler = route.auth.kind === "op" ? opHandler(ctx, route as OpRoute) : handlers[key];
    if (!handler) throw new Error(`no handler for ${key}`);
    app.on(route.method, route.path, async (c) => await dispatch(ctx, route, handler, c));
  }
  if (ctx.artifacts) mountArtifactRoutes(app, { auth: ctx.auth, artifacts: ctx.artifacts });
  if (ctx.repos) mountRepoRoutes(app, ctx, ctx.repos);
  mountPatchRoutes(app, ctx);
  mountApprovalRoutes(app, ctx);
  mountEditorRoutes(app, ctx, ctx.editorSessions ?? new EditorSessions());
  return app;
}

/** This node's sync endpoint, as the client reached it. */
function syncUrlOf(c: Context): string {
  const origin = new URL(c.req.url);
  return `${origin.protocol === "https:" ? "wss" : "ws"}://${origin.host}/v1/sync`;
}

/** A task that is a run, or 404. */
function runTask(space: Space, id: string): Task & { run: NonNullable<Task["run"]> } {
  const task = space.task(id);
  if (!task?.run) throw new HttpError(404, "not-found", `no run ${id} in this space`);
  return task as Task & { run: NonNullable<Task["run"]> };
}
