/**
 * HTTP API throughput for authorized task list and task create, with 1 and
 * 32 concurrent clients, against a bare hono handler on the same server
 * stack returning a body of the same size, in the same run. A list request
 * is authorized two ways, measured in alternating rounds with the bare
 * handler: a signed single-use bearer per request (what a client without a
 * session sends) and a MAC under an API session (what the API client and
 * the CLI send). Bearers, MACs and operations are made before the clock
 * starts, and the clients run in a fresh process of their own
 * (http-load.ts): this measures the peer, by rate and by its CPU time per
 * request.
 */
import process from "node:process";
import { Hono } from "hono";
import { CID } from "multiformats/cid";
import { serve } from "../../peer/http/serve.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { requestArgs } from "../../peer/api/request.ts";
import { sessionAuthorization } from "../../peer/api/session-crypto.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { openSession } from "../helpers/api-session.ts";
import { cpuMs, report } from "./report.ts";
import { loadFromChild } from "./http-load.ts";

const BENCH = "api-throughput";
const d = await testDaemon();
const creds = await loadCredentials(d.home);
const { spaces } = await d.client.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
const space = spaces[0];
for (let i = 0; i < 50; i++) await d.client.op(space.id, "create", { task: newTaskId(), title: `seed ${i}` });
const listPath = `/v1/spaces/${encodeURIComponent(space.id)}/tasks?limit=20`;
const sample = await (await fetch(d.client.url + listPath, {
  headers: { authorization: `Bearer ${await d.client.bearer("GET", listPath)}` },
})).text();

const bare = new Hono().get(
  "/v1/spaces/:space/tasks",
  (c) => c.body(sample, 200, { "content-type": "application/json" }),
);
const bareServer = await serve({
  app: bare,
  host: "127.0.0.1",
  port: 0,
  upgrade: () => Promise.resolve({ status: 404, body: {} }),
});
const bareUrl = `http://127.0.0.1:${bareServer.port}`;

const N = 1500;
const ROUNDS = Number(process.env.WEFT_BENCH_ROUNDS ?? 3);
const baselines: Record<number, number> = {};
/** `load`'s req/s, and this process's CPU time per request meanwhile (the server's: the clients run in a child). */
async function timed(load: () => Promise<number>): Promise<{ rate: number; cpuUs: number }> {
  const cpu0 = cpuMs();
  const rate = await load();
  return { rate, cpuUs: ((cpuMs() - cpu0) * 1000) / N };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** N headers for the list request: a fresh signed bearer each, or N MACs under a fresh session. */
async function listHeaders(mode: "bearer" | "session"): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  if (mode === "bearer") {
    for (let i = 0; i < N; i++) out.push({ authorization: `Bearer ${await d.client.bearer("GET", listPath)}` });
    return out;
  }
  const holder = {
    signer: creds.signer,
    proofs: [...space.chain.map((c) => CID.parse(c)), creds.powerline],
    carried: [creds.powerline],
  };
  const s = await openSession(d.client.url, creds.node, holder, space.id, "/weft");
  const fields = requestArgs("GET", listPath);
  for (let n = 1; n <= N; n++) out.push({ authorization: sessionAuthorization(s.key, s.id, n, fields) });
  return out;
}
const modes = { bare: "bare hono handler", bearer: "a signed bearer per request", session: "a session's MAC" };
for (const concurrency of [1, 32]) {
  const figures: Record<keyof typeof modes, { rate: number[]; cpuUs: number[] }> = {
    bare: { rate: [], cpuUs: [] },
    bearer: { rate: [], cpuUs: [] },
    session: { rate: [], cpuUs: [] },
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of Object.keys(modes) as Array<keyof typeof modes>) {
      const headers = mode === "bare" ? Array.from({ length: N }, () => ({})) : await listHeaders(mode);
      const url = (mode === "bare" ? bareUrl : d.client.url) + listPath;
      const { rate, cpuUs } = await timed(() => loadFromChild({ url, method: "GET", headers, concurrency }));
      figures[mode].rate.push(rate);
      figures[mode].cpuUs.push(cpuUs);
      const bare = figures.bare;
      report({
        bench: BENCH,
        metric: `round-${round}-list-tasks-${mode}-c${concurrency}`,
        value: rate,
        unit: "req/s",
        baseline: bare.rate[round - 1],
        note: `${modes[mode]}; server CPU ${Math.round(cpuUs)} µs/req (bare ${Math.round(bare.cpuUs[round - 1])})`,
      });
    }
  }
  baselines[concurrency] = median(figures.bare.rate);
  const roundRatios = (mode: "bearer" | "session") => {
    const ratios = figures[mode].rate.map((r, i) => r / figures.bare.rate[i]);
    return `${ratios.map((x) => x.toFixed(2)).join(", ")} (median ${median(ratios).toFixed(2)})`;
  };
  for (const mode of ["bearer", "session"] as const) {
    const suffix = mode === "bearer" ? "" : "-session";
    report({
      bench: BENCH,
      metric: `cpu-list-tasks${suffix}-c${concurrency}`,
      value: median(figures[mode].cpuUs),
      unit: "µs/req",
      baseline: median(figures.bare.cpuUs),
      note: `${
        modes[mode]
      }: the server's CPU time per request, median of ${ROUNDS} rounds; baseline: the bare handler's`,
    });
    report({
      bench: BENCH,
      metric: `list-tasks${suffix}-c${concurrency}`,
      value: median(figures[mode].rate),
      unit: "req/s",
      baseline: baselines[concurrency],
      note: `${modes[mode]}, median of ${ROUNDS} rounds; baseline: bare hono handler, same body (target ≥ 0.6×); ` +
        `each round's own ratio: ${roundRatios(mode)}`,
    });
  }
}
for (const concurrency of [1, 32]) {
  const ops: Record<string, string>[] = [];
  const chain = space.chain.map((c) => CID.parse(c));
  for (let i = 0; i < N; i++) {
    const inv = await invoke({
      issuer: creds.signer,
      subject: space.id,
      command: Commands.taskCreate,
      args: { task: newTaskId(), title: `bench ${i}`, at: [Date.now(), i] },
      proofs: [...chain, creds.powerline],
      expiration: null,
    });
    ops.push({ authorization: `Bearer ${await encodeContainer([inv.bytes, creds.powerline.bytes], "C")}` });
  }
  const create = await loadFromChild({
    url: `${d.client.url}/v1/spaces/${encodeURIComponent(space.id)}/tasks`,
    method: "POST",
    headers: ops,
    concurrency,
  });
  report({
    bench: BENCH,
    metric: `create-task-c${concurrency}`,
    value: create,
    unit: "req/s",
    baseline: baselines[concurrency],
    note: "durable: each 201 follows an fsync (batched across concurrent requests)",
  });
}
await bareServer.close();
await d.stop();
