/**
 * Every API route against a real daemon, through the same client the CLI
 * uses; the OpenAPI document covers them all.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ROUTES } from "../../peer/api/routes.ts";
import { ApiError } from "../../peer/api/client.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { eventually } from "../helpers/nodes.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { sampleSpec } from "../../wasm-runners/samples/build.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import type { LogLine } from "../../protocol/runner/runner.ts";

const enc = encodeURIComponent;

describe("HTTP API routes", () => {
  let a: TestDaemon;
  let b: TestDaemon;
  let space: string;
  const seen = new Set<string>();
  const hit = (method: string, path: string) => seen.add(`${method} ${path}`);

  before(async () => {
    [a, b] = await Promise.all([testDaemon(), testDaemon()]);
    const { spaces } = await a.client.get<{ spaces: Array<{ id: string; name: string }> }>("/v1/spaces");
    space = spaces[0].id;
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it("health, readiness, metrics and the OpenAPI document need no token", async () => {
    const url = a.client.url;
    assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { ok: true });
    hit("GET", "/healthz");
    assert.deepEqual(await (await fetch(`${url}/readyz`)).json(), { ready: true });
    hit("GET", "/readyz");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^# TYPE weft_peers gauge$/m);
    assert.match(metrics, /^weft_operations_verified_total \d+$/m);
    hit("GET", "/metrics");
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    hit("GET", "/openapi.json");
    assert.equal(doc.openapi, "3.1.0");
    for (const r of ROUTES) {
      const path = r.path.replace(/:(\w+)/g, "{$1}");
      assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `OpenAPI documents ${r.method} ${r.path}`);
    }
    assert.equal(doc.paths["/v1/spaces"].post.requestBody.content["application/json"].schema.required[0], "name");
  });

  it("node, peers, capacity and spaces", async () => {
    const node = await a.client.get<{ did: string; addresses: string[] }>("/v1/node");
    hit("GET", "/v1/node");
    // The client asked through a session it opened (tests/api/sessions.test.ts checks them).
    assert.match(await (await fetch(`${a.client.url}/metrics`)).text(), /^weft_api_sessions [1-9]\d*$/m);
    hit("POST", "/v1/sessions");
    assert.equal(node.did, a.daemon.node.did);
    await b.client.request("POST", "/v1/peers", { address: node.addresses[0] });
    hit("POST", "/v1/peers");
    await eventually(
      async () => (await a.client.get<{ peers: unknown[] }>("/v1/peers")).peers.length === 1,
      10_000,
      "peer",
    );
    hit("GET", "/v1/peers");
    await eventually(
      async () => (await a.client.get<{ nodes: unknown[] }>("/v1/capacity")).nodes.length >= 1,
      10_000,
      "capacity",
    );
    hit("GET", "/v1/capacity");
    const created = await a.client.request<{ id: string; name: string }>("POST", "/v1/spaces", { name: "team" });
    hit("POST", "/v1/spaces");
    assert.equal(created.name, "team");
    const { spaces } = await a.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    hit("GET", "/v1/spaces");
    assert.equal(spaces.length, 2);
    const one = await a.client.get<{ id: string; chain: string[] }>(`/v1/spaces/${enc(created.id)}`);
    hit("GET", "/v1/spaces/:space");
    assert.equal(one.chain.length, 1);
  });

  it("task lifecycle through signed operations", async () => {
    const id = newTaskId();
    const t0 = await a.client.op<"create", TaskView>(space, "create", {
      task: id,
      title: "build",
      labels: ["ci"],
      review: true,
    });
    hit("POST", "/v1/spaces/:space/tasks");
    assert.equal(t0.status, "open");
    const dep = newTaskId();
    await a.client.op(space, "create", { task: dep, title: "dep" });
    await a.client.op(space, "edit", { task: id, title: "build it" });
    hit("PATCH", "/v1/spaces/:space/tasks/:task");
    await a.client.op(space, "label", { task: id, add: ["x"], remove: ["ci"] });
    hit("POST", "/v1/spaces/:space/tasks/:task/labels");
    await a.client.op(space, "dependency", { task: dep, add: id });
    await a.client.op(space, "dependency", { task: dep, remove: id });
    hit("POST", "/v1/spaces/:space/tasks/:task/dependencies");
    await a.client.op(space, "comment", { task: id, body: "hi" });
    hit("POST", "/v1/spaces/:space/tasks/:task/comments");
    let t = await a.client.op<"claim", TaskView>(space, "claim", { task: id, fence: 1, expires: Date.now() + 60_000 });
    hit("POST", "/v1/spaces/:space/tasks/:task/claim");
    t = await a.client.op(space, "renew", { task: id, fence: 1, expires: Date.now() + 120_000 });
    hit("POST", "/v1/spaces/:space/tasks/:task/renew");
    t = await a.client.op(space, "release", { task: id, fence: 1 });
    hit("POST", "/v1/spaces/:space/tasks/:task/release");
    assert.equal(t.status, "open");
    await a.client.op(space, "claim", { task: id, fence: 2, expires: Date.now() + 60_000 });
    t = await a.client.op(space, "start", { task: id, fence: 2 });
    hit("POST", "/v1/spaces/:space/tasks/:task/start");
    assert.equal(t.status, "running");
    t = await a.client.op(space, "result", { task: id, fence: 2, outcome: "success", summary: "ok" });
    hit("POST", "/v1/spaces/:space/tasks/:task/result");
    assert.equal(t.status, "review");
    t = await a.client.op(space, "review", { task: id, verdict: "approve" });
    hit("POST", "/v1/spaces/:space/tasks/:task/review");
    assert.equal(t.status, "done");
    t = await a.client.op(space, "close", { task: dep, outcome: "failed" });
    hit("POST", "/v1/spaces/:space/tasks/:task/close");
    const c = newTaskId();
    await a.client.op(space, "create", { task: c, title: "doomed" });
    t = await a.client.op(space, "cancel", { task: c, body: "no longer needed" });
    hit("POST", "/v1/spaces/:space/tasks/:task/cancel");
    assert.equal(t.status, "cancelled");

    const one = await a.client.get<TaskView>(`/v1/spaces/${enc(space)}/tasks/${id}`);
    hit("GET", "/v1/spaces/:space/tasks/:task");
    assert.equal(one.history.length, 11);
    const list = await a.client.get<{ tasks: TaskView[] }>(`/v1/spaces/${enc(space)}/tasks?status=done&label=x`);
    hit("GET", "/v1/spaces/:space/tasks");
    assert.deepEqual(list.tasks.map((x) => x.id), [id]);
    const graph = await a.client.get<{ nodes: unknown[]; edges: unknown[] }>(`/v1/spaces/${enc(space)}/graph`);
    hit("GET", "/v1/spaces/:space/graph");
    assert.equal(graph.nodes.length, 3);
    // A conflicting operation: 409, and nothing changes.
    await assert.rejects(
      a.client.op(space, "claim", { task: id, fence: 3, expires: Date.now() + 60_000 }),
      (e: ApiError) => e.status === 409,
    );
    // Bad arguments: 400.
    await assert.rejects(a.client.op(space, "create", { task: "BAD", title: "" }), (e: ApiError) => e.status === 400);
  });

  it("members, invites, capabilities, join, revoke, diagnostics", async () => {
    const bDid = b.daemon.node.did;
    const { invite } = await a.client.request<{ invite: string }>("POST", `/v1/spaces/${enc(space)}/invites`, {
      audience: bDid,
      name: "b",
    });
    hit("POST", "/v1/spaces/:space/invites");
    const joined = await b.client.request<{ id: string }>("POST", "/v1/spaces/join", { invite });
    hit("POST", "/v1/spaces/join");
    assert.equal(joined.id, space);
    const { members } = await a.client.get<{ members: Array<{ did: string; name?: string }> }>(
      `/v1/spaces/${enc(space)}/members`,
    );
    hit("GET", "/v1/spaces/:space/members");
    assert.ok(members.some((m) => m.did === bDid && m.name === "b"));
    const d = await a.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      {
        audience: bDid,
        command: "/weft/task/comment",
        policy: [["like", ".body", "lgtm*"]],
        name: "commenter",
      },
    );
    hit("POST", "/v1/spaces/:space/capabilities");
    const { capabilities } = await a.client.get<{ capabilities: Array<{ cid: string; revoked: boolean }> }>(
      `/v1/spaces/${enc(space)}/capabilities`,
    );
    hit("GET", "/v1/spaces/:space/capabilities");
    assert.ok(capabilities.some((x) => x.cid === d.cid && !x.revoked));
    const revokeAt = `/v1/spaces/${enc(space)}/capabilities/${d.cid}`;
    for (const voidSince of ["yesterday", new Date(Date.now() + 3_600_000).toISOString()]) {
      await assert.rejects(a.client.request("DELETE", revokeAt, { voidSince }), (e: ApiError) => e.status === 400);
    }
    const voidSince = new Date(Date.now() - 60_000).toISOString();
    const revoked = await a.client.request<{ voidSince: number }>("DELETE", revokeAt, { voidSince });
    assert.equal(revoked.voidSince, Date.parse(voidSince));
    hit("DELETE", "/v1/spaces/:space/capabilities/:cid");
    const after = await a.client.get<{
      capabilities: Array<{ cid: string; revoked: boolean; revokedBy?: string; revokedAt?: number }>;
    }>(`/v1/spaces/${enc(space)}/capabilities`);
    const gone = after.capabilities.find((x) => x.cid === d.cid);
    assert.ok(gone?.revoked);
    assert.equal(gone.revokedBy, a.daemon.node.did);
    assert.ok(Math.abs(gone.revokedAt! - Date.now()) < 60_000);
    const powerline = await a.client.request<{ cid: string; chains: Record<string, string[]> }>(
      "POST",
      "/v1/capabilities",
      { audience: bDid, command: "/weft/task", name: "b everywhere" },
    );
    hit("POST", "/v1/capabilities");
    assert.equal(powerline.chains[space].at(-1), powerline.cid);
    type Powerlines = { powerlines: Array<{ cid: string; aud: string; revoked: boolean }> };
    const issued = await a.client.get<Powerlines>("/v1/capabilities");
    hit("GET", "/v1/capabilities");
    assert.deepEqual(issued.powerlines.find((p) => p.cid === powerline.cid), {
      cid: powerline.cid,
      aud: bDid,
      cmd: "/weft/task",
      name: "b everywhere",
      exp: null,
      revoked: false,
    });
    const unpowered = await a.client.request<{ revoked: string; spaces: number }>(
      "DELETE",
      `/v1/capabilities/${powerline.cid}`,
    );
    hit("DELETE", "/v1/capabilities/:cid");
    assert.deepEqual(unpowered, { revoked: powerline.cid, spaces: a.daemon.node.spaces().length });
    const listed = await a.client.get<Powerlines>("/v1/capabilities");
    assert.equal(listed.powerlines.find((p) => p.cid === powerline.cid)?.revoked, true);
    const diag = await a.client.get<{ refusals: unknown[]; counters: Record<string, number> }>(
      `/v1/spaces/${enc(space)}/diagnostics`,
    );
    hit("GET", "/v1/spaces/:space/diagnostics");
    assert.ok(Array.isArray(diag.refusals));
  });

  it("the event stream pushes task changes", async () => {
    const bearer = await a.client.bearer("GET", "/v1/stream");
    const socket = new WebSocket(`${a.client.url.replace("http", "ws")}/v1/stream?token=${enc(bearer)}`);
    const events: Array<{ type: string; tasks?: TaskView[] }> = [];
    socket.addEventListener("message", (e) => events.push(JSON.parse(String(e.data))));
    await eventually(() => events.some((e) => e.type === "hello"), 5000, "hello");
    const id = newTaskId();
    await a.client.op(space, "create", { task: id, title: "streamed" });
    await eventually(() => events.some((e) => e.tasks?.some((t) => t.id === id)), 5000, "event");
    socket.close();
    hit("GET", "/v1/stream");
    // Without a valid token, no stream.
    const refused = await new Promise<boolean>((resolve) => {
      const s = new WebSocket(`${a.client.url.replace("http", "ws")}/v1/stream`);
      s.addEventListener("open", () => resolve(false));
      s.addEventListener("error", () => resolve(true));
    });
    assert.ok(refused);
  });

  it("runs: schedule (idempotent), pods, logs and evict", async () => {
    // The program goes where the runner reads it: the peer's artifact store.
    const local = a.daemon.artifacts.local;
    const hasher = await sampleSpec(local, "hasher", { limits: { wallMs: 20_000 } });
    const schedule = `/v1/spaces/${enc(space)}/schedule`;
    const args = { task: newTaskId(), title: "hash nothing", run: hasher, idempotencyKey: "routes-1" };
    const first = await a.client.op<"create", Pod>(space, "create", args, { path: schedule });
    hit("POST", "/v1/spaces/:space/schedule");
    const again = await a.client.op<"create", Pod>(space, "create", { ...args, task: newTaskId() }, { path: schedule });
    assert.equal(again.task, first.task, "the same idempotency key gives back the first run");
    const pod = (p: string) => a.client.get<Pod>(`/v1/spaces/${enc(space)}/pods/${p}`);
    const done = await eventually(
      async () => {
        const x = await pod(first.task);
        return x.state === "succeeded" || x.state === "failed" ? x : undefined;
      },
      60_000,
      "run finished",
    );
    hit("GET", "/v1/spaces/:space/pods/:task");
    assert.equal(done!.state, "succeeded", done!.summary);
    assert.equal(done!.node, a.daemon.node.did);
    assert.ok(done!.manifest);
    const { pods } = await a.client.get<{ pods: Pod[] }>(`/v1/spaces/${enc(space)}/pods?state=succeeded`);
    hit("GET", "/v1/spaces/:space/pods");
    assert.deepEqual(pods.map((p) => p.task), [first.task]);
    const lines: LogLine[] = [];
    for await (const l of a.client.lines<LogLine>(`/v1/spaces/${enc(space)}/pods/${first.task}/logs`)) lines.push(l);
    hit("GET", "/v1/spaces/:space/pods/:task/logs");
    assert.ok(lines.some((l) => l.stream === "system"), JSON.stringify(lines));

    const sleep = await sampleSpec(local, "sleep", { args: ["60000"], limits: { wallMs: 120_000 } });
    const long = await a.client.op<"create", Pod>(space, "create", { task: newTaskId(), title: "sleep", run: sleep }, {
      path: schedule,
    });
    await eventually(async () => (await pod(long.task)).state === "running", 60_000, "sleep running");
    const evicted = await a.client.op<"cancel", Pod>(space, "cancel", { task: long.task }, {
      path: `/v1/spaces/${enc(space)}/evict`,
    });
    hit("POST", "/v1/spaces/:space/evict");
    assert.equal(evicted.state, "cancelled");
    const stopped = await eventually(
      async () => {
        const x = await pod(long.task);
        return x.local?.status ? x : undefined;
      },
      20_000,
      "sleep stopped",
    );
    assert.equal(stopped!.local!.status, "stopped");
  });

  it("kube nodes: none on a peer without a virtual node, and cordoning one it does not run is a 404", async () => {
    // A peer running one: tests/kubernetes/peer-virtual-node.kube-test.ts (`weft kube node …` on a real control plane).
    assert.deepEqual(await a.client.get("/v1/kube/nodes"), { nodes: [] });
    hit("GET", "/v1/kube/nodes");
    for (const verb of ["cordon", "uncordon"]) {
      await assert.rejects(
        a.client.request("POST", `/v1/kube/nodes/weft-team/${verb}`),
        (e: ApiError) => e.status === 404 && e.code === "not-found",
      );
      hit("POST", `/v1/kube/nodes/:name/${verb}`);
    }
  });

  it("covers every route in the table", () => {
    hit("GET", "/v1/sync"); // exercised by the sync tests (tests/api/stock-client.test.ts)
    hit("POST", "/v1/spaces/:space/sync-tokens"); // tests/first-hour/sync-token.test.ts
    hit("POST", "/v1/cli-key"); // tests/peer/cli-key.test.ts
    for (const r of ["POST /v1/pairings", "POST /v1/pair", "GET /v1/identity", "GET /v1/invites"]) {
      seen.add(r); // tests/first-hour/pairing.test.ts
    }
    for (const r of ROUTES.filter((r) => r.path.startsWith("/v1/spaces/:space/agents"))) {
      seen.add(`${r.method} ${r.path}`); // tests/peer/agents.peer-test.ts
    }
    const missing = ROUTES.map((r) => `${r.method} ${r.path}`).filter((k) => !seen.has(k));
    assert.deepEqual(missing, []);
  });
});
