/**
 * Submit-to-start latency in a 5-peer mesh on loopback (libp2p, gossip and
 * automerge-repo sync over members-only sessions): a job submitted on one peer that runs nothing, until
 * the WASM runner on the node that won it starts it — placement, the claim
 * and start operations and their propagation included. Jobs go one at a
 * time, then in a burst as large as the mesh's free slots (4 nodes × 4).
 * Baseline: how long a plain operation takes to reach another peer in the
 * same mesh (the floor any placement pays). Target: p99 < 1 s. All five
 * nodes and their sandboxes share this process, so on a small machine the
 * burst measures CPU starvation as much as placement.
 */
import process from "node:process";
import type { Runner, RunSpec } from "../../protocol/runner/runner.ts";
import { Scheduler } from "../../protocol/scheduler/scheduler.ts";
import type { Space } from "../../protocol/space/space.ts";
import { createNodeWasmRunner } from "../../wasm-runners/runtime-node/runner.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { advert } from "../helpers/adverts.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";
import { percentile, report } from "./report.ts";

const BENCH = "submit-to-start";
const SEQUENTIAL = Number(process.env.SEQ ?? 60);
const BURST = 16;

const offer = advert({ memoryMb: { total: 4096, free: 2048 }, slots: 4, ttl: 600 });

const nodes: TestNode[] = await Promise.all(Array.from({ length: 5 }, () => libp2pNode()));
const space = await nodes[0].node.createSpace("bench");
const invites = await Promise.all(
  nodes.slice(1).map((n, i) => nodes[0].node.invite(space.id, { audience: n.node.did, name: `worker${i}` })),
);
await mesh(nodes);
const spaces: Space[] = [
  space,
  ...await Promise.all(nodes.slice(1).map((n, i) => n.node.join(invites[i], { signal: AbortSignal.timeout(120_000) }))),
];

const store = new MemoryContentStore();
const program = await store.put((await buildSamples()).hasher.component);
const wasm = createNodeWasmRunner();
await wasm.warmUp();
/** When each job's runner started, by its JOB variable (the job's label), and how many times it did. */
const started = new Map<string, number>();
const starts = new Map<string, number>();
const timed: Runner = {
  kind: "wasm",
  available: () => wasm.available(),
  start(spec, s) {
    started.set(spec.env[0].value, performance.now());
    starts.set(spec.env[0].value, (starts.get(spec.env[0].value) ?? 0) + 1);
    return wasm.start(spec, s);
  },
};
/** Each worker re-advertises its free slots shortly after they change, as a peer daemon does. */
const schedulers: Scheduler[] = nodes.slice(1).map((n, i) => {
  let soon: ReturnType<typeof setTimeout> | undefined;
  return new Scheduler({
    did: n.node.did,
    spaces: () => n.node.spaces(),
    adverts: (s) => n.node.gossip(s)?.adverts() ?? [],
    runners: [timed],
    store,
    slots: 4,
    leaseMs: 30_000,
    capacityChanged: () =>
      soon ??= setTimeout(() => {
        soon = undefined;
        const s = schedulers[i];
        void n.node.gossip(space.id)!.advertise({ ...offer, running: s.running, slots: s.free });
      }, 100),
  });
});
for (const n of nodes.slice(1)) await n.node.gossip(space.id)!.advertise(offer);
await eventually(() => nodes[0].node.gossip(space.id)!.adverts().length === 4, 30_000, "four adverts");
for (const s of schedulers) s.start();

const spec = (label: string): RunSpec => ({
  runner: "wasm",
  program,
  args: [],
  inputs: [],
  env: [{ name: "JOB", value: label }],
  limits: { wallMs: 10_000, memoryMb: 64, outputBytes: 1 << 20 },
});

/**
 * Where a job's time goes, per task id, on every node: when the task first
 * reached each node, and when the node that won it first held its claim.
 */
const arrived = spaces.map(() => new Map<string, number>());
const claimed = new Map<string, number>();
spaces.forEach((sp, k) =>
  sp.subscribe((e) => {
    if (e.type !== "tasks") return;
    const now = performance.now();
    for (const id of e.tasks) {
      if (!arrived[k].has(id)) arrived[k].set(id, now);
      const t = sp.task(id);
      if (!claimed.has(id) && t?.assignee === nodes[k].node.did && t.status !== "open") claimed.set(id, now);
    }
  })
);
/** A job's phases, ms: signed and written on the submitter; reached the node that ran it; claimed there; started. */
interface Phases {
  write: number;
  reach: number;
  claim: number;
  start: number;
}
const phases = new Map<string, Phases>();

/** A job that did not start: which nodes have it, in what state, and who holds it. */
function whereIs(id: string): string {
  return spaces.map((sp, k) => {
    const t = sp.task(id);
    return `node ${k}: ${
      t ? `${t.status}${t.assignee ? ` by ${nodes.findIndex((n) => n.node.did === t.assignee)}` : ""}` : "absent"
    }`;
  }).join(", ") + `; free slots: ${schedulers.map((x) => x.free).join(", ")}` +
    (spaces[0].task(id)?.results.at(-1)?.summary ? `; its result: ${spaces[0].task(id)?.results.at(-1)?.summary}` : "");
}

async function submit(label: string): Promise<number> {
  const t0 = performance.now();
  const task = await spaces[0].createTask({ title: label, run: spec(label) });
  const written = performance.now();
  await eventually(() => started.has(label), 30_000, `${label} started`).catch((e) => {
    throw new Error(`${(e as Error).message}; it stands at: ${whereIs(task.id)}`);
  });
  await eventually(() => spaces[0].task(task.id)?.status === "done", 30_000, `${label} done`).catch((e) => {
    throw new Error(`${(e as Error).message}; it stands at: ${whereIs(task.id)}`);
  });
  const winner = spaces.findIndex((sp, k) => sp.task(task.id)?.assignee === nodes[k].node.did);
  const reached = arrived[winner]?.get(task.id) ?? NaN;
  const claimAt = claimed.get(task.id) ?? NaN;
  phases.set(label, {
    write: written - t0,
    reach: reached - written,
    claim: claimAt - reached,
    start: started.get(label)! - claimAt,
  });
  return started.get(label)! - t0;
}

async function propagation(i: number): Promise<number> {
  const t0 = performance.now();
  const task = await spaces[0].createTask({ title: `plain ${i}` });
  const peer = spaces[1 + (i % 4)];
  await eventually(() => peer.task(task.id), 30_000, "plain op arrived");
  return performance.now() - t0;
}

// Warm-up: a few jobs and ops, not measured.
for (let i = 0; i < 5; i++) {
  await submit(`warm-${i}`);
  await propagation(i);
}

const base: number[] = [];
for (let i = 0; i < SEQUENTIAL; i++) base.push(await propagation(i));
const one: number[] = [];
for (let i = 0; i < SEQUENTIAL; i++) one.push(await submit(`seq-${i}`));
const burst = await Promise.all(Array.from({ length: BURST }, (_, i) => submit(`burst-${i}`)));

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const [b, s, u] = [sorted(base), sorted(one), sorted(burst)];
const note = "baseline: a plain operation reaching another peer";
for (const p of [50, 99]) {
  report({
    bench: BENCH,
    metric: `one-at-a-time p${p}`,
    value: percentile(s, p),
    unit: "ms",
    baseline: percentile(b, p),
    note,
  });
  report({
    bench: BENCH,
    metric: `burst of ${BURST} p${p}`,
    value: percentile(u, p),
    unit: "ms",
    baseline: percentile(b, p),
    note: `${note}; target p99 < 1000 ms`,
  });
}

report({
  bench: BENCH,
  metric: `burst of ${BURST}: runs started beyond one per job`,
  value: [...starts].filter(([label]) => label.startsWith("burst-")).reduce((n, [, k]) => n + k - 1, 0),
  unit: "runs",
  note: "a job started on a second node: a claim race (the loser stops it once the claims meet)",
});

// Where the burst's time goes, phase by phase (a job's phases add up to its submit-to-start).
const burstPhases = [...phases].filter(([label]) => label.startsWith("burst-")).map(([, p]) => p);
for (const phase of ["write", "reach", "claim", "start"] as const) {
  const xs = sorted(burstPhases.map((p) => p[phase]).filter((x) => Number.isFinite(x)));
  for (const p of [50, 99]) {
    report({
      bench: BENCH,
      metric: `burst phase ${phase} p${p}`,
      value: percentile(xs, p),
      unit: "ms",
      note: "write: signed and durable on the submitter; reach: to the node that ran it; claim: placed and " +
        "claimed there; start: claim to the runner's start",
    });
  }
}

for (const sched of schedulers) await sched.stop();
await wasm.close();
await Promise.all(nodes.map((n) => n.node.stop()));
