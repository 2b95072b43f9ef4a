/**
 * HTTP API throughput for authorized task list and task create, with 1 and
 * 32 concurrent clients, against a bare hono handler on the same server
 * stack returning a body of the same size, in the same run. Bearers and
 * operations are signed before the clock starts, and the clients run in a
 * fresh process of their own (http-load.ts): this measures the peer.
 */
import { Hono } from "hono";
import { CID } from "multiformats/cid";
import { serve } from "../../peer/http/serve.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { testDaemon } from "../helpers/daemon.ts";
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
const baselines: Record<number, number> = {};
/** `load`'s req/s, and this process's CPU time per request meanwhile (the server's: the clients run in a child). */
async function timed(load: () => Promise<number>): Promise<{ rate: number; cpuUs: number }> {
  const cpu0 = cpuMs();
  const rate = await load();
  return { rate, cpuUs: ((cpuMs() - cpu0) * 1000) / N };
}
for (const concurrency of [1, 32]) {
  const bearers: Record<string, string>[] = [];
  for (let i = 0; i < N; i++) bearers.push({ authorization: `Bearer ${await d.client.bearer("GET", listPath)}` });
  const { rate: baseline, cpuUs: bareCpu } = await timed(() =>
    loadFromChild({
      url: bareUrl + listPath,
      method: "GET",
      headers: Array.from({ length: N }, () => ({})),
      concurrency,
    })
  );
  baselines[concurrency] = baseline;
  const { rate: list, cpuUs: listCpu } = await timed(() =>
    loadFromChild({ url: d.client.url + listPath, method: "GET", headers: bearers, concurrency })
  );
  report({
    bench: BENCH,
    metric: `cpu-list-tasks-c${concurrency}`,
    value: listCpu,
    unit: "µs/req",
    baseline: bareCpu,
    note: "the server process's CPU time per request (the clients run in a child); baseline: the bare handler's",
  });
  report({
    bench: BENCH,
    metric: `list-tasks-c${concurrency}`,
    value: list,
    unit: "req/s",
    baseline,
    note: "baseline: bare hono handler, same body",
  });
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
