/**
 * A scale model past one machine: 5, 10, 25 and 50 Weft nodes in one space
 * holding 10,000 tasks, over simulated links with latency and loss (see
 * scale-rig.ts), each node linked to about four others as a large mesh
 * would be. Each size runs in a fresh process. Per size it prints:
 *
 *   base-converge        the 10k tasks, written on one node, reach every node
 *   burst-converge       200 tasks written on random nodes reach every node
 *   op-to-all-p50/p95    per task of the burst, until the last node has it
 *   bytes-per-op-per-peer, frames-per-op-per-peer, cpu-per-op-per-peer
 *                        over the burst, everything the mesh sent or spent,
 *                        divided by operations × nodes
 *   gossip-msgs-per-s    gossip frames per second, per node, while idle
 *   rss-per-peer         resident memory per node at the end
 *
 * The per-op-per-peer figures are reported against the 5-node figure of the
 * same run: a ratio that stays near 1 as nodes are added means the cost per
 * operation per node does not grow with the mesh (linear in total). What the
 * curves show, and what they imply for 500 devices, is in README.md.
 *
 *   WEFT_SCALE_PEERS=5,10,25,50  WEFT_SCALE_TASKS=10000  WEFT_SCALE_BURST=200
 *   WEFT_SCALE_LATENCY_MS=20  WEFT_SCALE_LOSS=0.01  WEFT_SCALE_DEGREE=4
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createNode } from "../../protocol/node/node.ts";
import type { Space } from "../../protocol/space/space.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { memoryKeystore } from "../helpers/nodes.ts";
import { report } from "./report.ts";
import { type LinkShape, seededRandom, simLink, SimNetworkAdapter, topology, Traffic } from "./scale-rig.ts";

const BENCH = "scale-model";
const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const TASKS = Number(env("WEFT_SCALE_TASKS", "10000"));
const BURST = Number(env("WEFT_SCALE_BURST", "200"));
const DEGREE = Number(env("WEFT_SCALE_DEGREE", "4"));
const SHAPE: LinkShape = {
  latencyMs: Number(env("WEFT_SCALE_LATENCY_MS", "20")),
  loss: Number(env("WEFT_SCALE_LOSS", "0.01")),
  rtoMs: Number(env("WEFT_SCALE_RTO_MS", "200")),
};
const IDLE_MS = 5000;
const WRITERS = 8;

interface Result {
  peers: number;
  baseConvergeMs: number;
  burstConvergeMs: number;
  opToAllP50: number;
  opToAllP95: number;
  bytesPerOpPerPeer: number;
  framesPerOpPerPeer: number;
  cpuUsPerOpPerPeer: number;
  gossipPerSecPerPeer: number;
  framesByType: Record<string, { frames: number; bytes: number }>;
  rssPerPeerMb: number;
}

/** Resolve once `check` holds, looking every 25 ms; fail after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function model(n: number): Promise<Result> {
  const random = seededRandom(n * 7919);
  const traffic = new Traffic();
  const nodes = await Promise.all(Array.from({ length: n }, async () => {
    const node = await createNode({
      signer: nativeSigner(generateSeed()),
      verifier: nativeVerifier(),
      keystore: memoryKeystore(),
    });
    return { node, net: node.addNetwork((o) => new SimNetworkAdapter(o)) };
  }));
  const edges = topology(n, DEGREE, random);
  for (const [i, j] of edges) simLink(nodes[i].net, nodes[j].net, SHAPE, traffic, random);

  // Join in breadth-first layers from the creator, so every joiner has a member beside it.
  const spaces: Space[] = new Array(n);
  spaces[0] = await nodes[0].node.createSpace("scale");
  const neighbours = (i: number) => edges.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : []));
  let layer = [0];
  const joined = new Set([0]);
  while (joined.size < n) {
    const next = [...new Set(layer.flatMap(neighbours))].filter((i) => !joined.has(i));
    await Promise.all(next.map(async (i) => {
      const invite = await nodes[0].node.invite(spaces[0].id, { audience: nodes[i].node.did });
      spaces[i] = await nodes[i].node.join(invite, { signal: AbortSignal.timeout(120_000) });
    }));
    for (const i of next) joined.add(i);
    layer = next;
  }
  const opsNow = () => spaces.map((s) => s.log.size);
  const everyoneHas = (count: number) => opsNow().every((c) => c >= count);
  await until(() => everyoneHas(spaces[0].log.size), 120_000, "membership to settle");

  // The base: TASKS tasks written on the creator, until every node has them.
  const baseStart = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < TASKS) {
      next++;
      await spaces[0].createTask({ title: `task ${next}`, labels: [`l${next % 10}`] });
    }
  }));
  const baseCount = spaces[0].log.size;
  await until(() => everyoneHas(baseCount), 3_600_000, "the base to reach every node");
  const baseConvergeMs = performance.now() - baseStart;

  // The burst: tasks written on random nodes; per task, when the last node has it.
  const arrivals = new Map<string, { at: number; seen: Set<number> }>();
  const lastArrival: number[] = [];
  const stops = spaces.map((s, i) =>
    s.subscribe((e) => {
      if (e.type !== "tasks") return;
      for (const id of e.tasks) {
        const a = arrivals.get(id);
        if (!a || a.seen.has(i)) continue;
        a.seen.add(i);
        if (a.seen.size === n) lastArrival.push(performance.now() - a.at);
      }
    })
  );
  const trafficBefore = traffic.snapshot();
  const cpuBefore = process.cpuUsage();
  const burstStart = performance.now();
  let written = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (written < BURST) {
      written++;
      const w = Math.floor(random() * n);
      const at = performance.now();
      const t = await spaces[w].createTask({ title: `burst ${written}` });
      const a = arrivals.get(t.id) ?? { at, seen: new Set<number>() };
      a.at = at;
      arrivals.set(t.id, a);
      a.seen.add(w);
      if (a.seen.size === n) lastArrival.push(performance.now() - a.at);
    }
  }));
  await until(() => everyoneHas(baseCount + BURST), 600_000, "the burst to reach every node");
  const burstConvergeMs = performance.now() - burstStart;
  const cpu = process.cpuUsage(cpuBefore);
  const trafficAfter = traffic.snapshot();
  for (const stop of stops) stop();

  // Idle: what the mesh keeps saying with nothing to do.
  const gossipFrames = () => traffic.byType.get("gossip")?.frames ?? 0;
  const gossipBefore = gossipFrames();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const gossipPerSecPerPeer = (gossipFrames() - gossipBefore) / (IDLE_MS / 1000) / n;

  const ops = BURST * n;
  const sorted = lastArrival.sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const byType: Record<string, { frames: number; bytes: number }> = {};
  for (const [k, v] of Object.entries(trafficAfter.byType)) {
    const b = trafficBefore.byType[k] ?? { frames: 0, bytes: 0 };
    byType[k] = { frames: v.frames - b.frames, bytes: v.bytes - b.bytes };
  }
  const result: Result = {
    peers: n,
    baseConvergeMs,
    burstConvergeMs,
    opToAllP50: pct(50),
    opToAllP95: pct(95),
    bytesPerOpPerPeer: (trafficAfter.bytes - trafficBefore.bytes) / ops,
    framesPerOpPerPeer: (trafficAfter.frames - trafficBefore.frames) / ops,
    cpuUsPerOpPerPeer: (cpu.user + cpu.system) / ops,
    gossipPerSecPerPeer,
    framesByType: byType,
    rssPerPeerMb: process.memoryUsage().rss / 1024 / 1024 / n,
  };
  await Promise.all(nodes.map((x) => x.node.stop()));
  return result;
}

const child = process.argv.indexOf("--peers");
if (child !== -1) {
  console.log(JSON.stringify(await model(Number(process.argv[child + 1]))));
  process.exit(0);
}

const sizes = env("WEFT_SCALE_PEERS", "5,10,25,50").split(",").map(Number);
const results: Result[] = [];
for (const n of sizes) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--peers", String(n)], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, CBOR_NATIVE_ACCELERATION_DISABLED: "true" },
  });
  if (r.status !== 0) throw new Error(`the ${n}-node model failed (exit ${r.status})`);
  results.push(JSON.parse(r.stdout.trim().split("\n").pop()!));
}
const base = results[0];
const shape = `${TASKS} tasks, degree ${DEGREE}, ${SHAPE.latencyMs} ms one-way, ${SHAPE.loss * 100}% loss`;
for (const r of results) {
  const p = `${r.peers}p`;
  const vs = `against ${base.peers} nodes; ${shape}`;
  report({ bench: BENCH, metric: `base-converge-${p}`, value: r.baseConvergeMs, unit: "ms", note: shape });
  report({ bench: BENCH, metric: `burst-converge-${p}`, value: r.burstConvergeMs, unit: "ms", note: shape });
  report({ bench: BENCH, metric: `op-to-all-p50-${p}`, value: r.opToAllP50, unit: "ms", baseline: base.opToAllP50 });
  report({ bench: BENCH, metric: `op-to-all-p95-${p}`, value: r.opToAllP95, unit: "ms", baseline: base.opToAllP95 });
  report({
    bench: BENCH,
    metric: `bytes-per-op-per-peer-${p}`,
    value: r.bytesPerOpPerPeer,
    unit: "B",
    baseline: base.bytesPerOpPerPeer,
    note: vs,
  });
  report({
    bench: BENCH,
    metric: `frames-per-op-per-peer-${p}`,
    value: r.framesPerOpPerPeer,
    unit: "frames",
    baseline: base.framesPerOpPerPeer,
    note: vs,
  });
  report({
    bench: BENCH,
    metric: `cpu-per-op-per-peer-${p}`,
    value: r.cpuUsPerOpPerPeer,
    unit: "µs",
    baseline: base.cpuUsPerOpPerPeer,
    note: vs,
  });
  report({
    bench: BENCH,
    metric: `gossip-msgs-per-s-per-peer-${p}`,
    value: r.gossipPerSecPerPeer,
    unit: "msgs/s",
    baseline: base.gossipPerSecPerPeer || null,
  });
  report({ bench: BENCH, metric: `rss-per-peer-${p}`, value: r.rssPerPeerMb, unit: "MB" });
  const top = Object.entries(r.framesByType).sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([k, v]) => `${k} ${(v.bytes / (BURST * r.peers)).toFixed(0)} B/op/peer`).join(", ");
  report({ bench: BENCH, metric: `burst-frames-by-type-${p}`, value: r.framesPerOpPerPeer, unit: "frames", note: top });
}
