/**
 * HTTP API throughput for authorized task list and task create, with 1 and
 * 32 concurrent clients, against a bare hono handler on the same server
 * stack returning a body of the same size, in the same run. Bearers and
 * operations are signed before the clock starts: this measures the peer.
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
import { report } from "./report.ts";

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

async function drive(n: number, concurrency: number, request: (i: number) => Promise<Response>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const res = await request(next++);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  }));
  return n / ((performance.now() - start) / 1000);
}

const N = 1500;
const baselines: Record<number, number> = {};
for (const concurrency of [1, 32]) {
  const bearers: string[] = [];
  for (let i = 0; i < N; i++) bearers.push(await d.client.bearer("GET", listPath));
  const baseline = await drive(N, concurrency, () => fetch(bareUrl + listPath));
  baselines[concurrency] = baseline;
  const list = await drive(
    N,
    concurrency,
    (i) => fetch(d.client.url + listPath, { headers: { authorization: `Bearer ${bearers[i]}` } }),
  );
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
  const ops: string[] = [];
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
    ops.push((await encodeContainer([inv.bytes, creds.powerline.bytes], "C")) as string);
  }
  const create = await drive(
    N,
    concurrency,
    (i) =>
      fetch(`${d.client.url}/v1/spaces/${encodeURIComponent(space.id)}/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${ops[i]}` },
      }),
  );
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
