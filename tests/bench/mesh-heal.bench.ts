/**
 * Convergence after a partition heals: two peers each make 500 operations
 * apart (1,000 divergent in all), then reconnect. Time until both hold
 * identical state (target < 1 s) and the bytes the sync exchanged, against
 * plain automerge-repo peers healing the same signed bytes (each side's
 * operations, as it wrote them apart) over the same transport, without
 * verifying or reducing them.
 *
 * Weft heals twice per round: with signatures checked on the main thread
 * (the native verifier) and with the peer's verify pool (worker threads;
 * the daemon's default). Every run is a fresh process (fresh-run.ts), and
 * rounds (WEFT_BENCH_ROUNDS, default 3) alternate the three runs so drift in
 * machine speed hits all alike; each figure is the median. CPU is given for
 * the whole process (workers included) and for the main thread alone, the
 * one the heal waits on. Each run warms up first with an unmeasured heal of
 * 2 × 100 operations, as a node heals warm.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { dial, libp2pNode, partition, stateDigest, type TestNode } from "../helpers/nodes.ts";
import type { Space } from "../../protocol/space/space.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { verifyPool } from "../../peer/crypto/verify-pool.ts";
import type { Verifier } from "../../protocol/identity/index.ts";
import { findSoon, fullMesh, plainPeer, watchKeys } from "./mesh-rig.ts";
import { cpuMs, percentile, report } from "./report.ts";
import { childArgs, fromBase64, runFresh, toBase64 } from "./fresh-run.ts";

const BENCH = "mesh-heal";
const EACH = Number(process.env.WEFT_BENCH_OPS ?? 1000) / 2;
/** Operations each side writes in the unmeasured heal that warms a run. */
const WARM_UP = 100;
const ROUNDS = Number(process.env.WEFT_BENCH_ROUNDS ?? 3);
/** This thread's CPU time so far, in ms. */
const threadMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
const bytes = (n: { node: { diagnostics: { counter(k: string): number } } }) =>
  n.node.diagnostics.counter("sync.bytes.in") + n.node.diagnostics.counter("sync.bytes.out");

type Ops = { ops: Record<string, Uint8Array> };
/** The signed operations a peer's bucket documents hold. */
async function opsOf(n: TestNode, space: Space): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const id of space.documentIds.slice(1)) out.push(...Object.values((await n.node.repo.find<Ops>(id)).doc().ops));
  return out;
}

interface Healed {
  ms: number;
  cpu: number;
  main: number;
}

async function weft(
  verifier: Verifier,
  each = EACH,
): Promise<Healed & { bytes: number; opsA: Uint8Array[]; opsB: Uint8Array[] }> {
  const a = await libp2pNode({ verifier });
  const b = await libp2pNode({ verifier });
  try {
    const space = await a.node.createSpace("heal");
    const invite = await a.node.invite(space.id, { audience: b.node.did });
    await dial(b, a);
    const joined = await b.node.join(invite);
    await partition([a], [b]);
    for (let i = 0; i < each; i++) {
      await space.createTask({ title: `a${i}` });
      await joined.createTask({ title: `b${i}` });
    }
    const [opsA, opsB] = [await opsOf(a, space), await opsOf(b, joined)];
    const before = bytes(a) + bytes(b);
    const start = performance.now();
    const cpu0 = cpuMs();
    const main0 = threadMs();
    await dial(a, b);
    // Wait for every operation cheaply (the log's size), then for identical
    // reduced state: computing the digest every few milliseconds reduced both
    // logs hundreds of times, work neither a node nor the baseline does.
    while (space.log.size < 2 * each || joined.log.size < 2 * each) await new Promise((r) => setTimeout(r, 5));
    while (stateDigest(space) !== stateDigest(joined) || space.tasks().length !== 2 * each) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return {
      ms: performance.now() - start,
      cpu: cpuMs() - cpu0,
      main: threadMs() - main0,
      bytes: bytes(a) + bytes(b) - before,
      opsA,
      opsB,
    };
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
}

/** The same signed bytes each side wrote apart, healed by plain automerge-repo peers. */
async function plain(opsA: Uint8Array[], opsB: Uint8Array[]): Promise<Healed> {
  const [a, b] = await Promise.all([plainPeer(), plainPeer()]);
  try {
    await fullMesh([a.libp2p, b.libp2p]);
    while (a.adapter.sessions.size < 1 || b.adapter.sessions.size < 1) await new Promise((r) => setTimeout(r, 10));
    const ha = Array.from({ length: 64 }, () => a.repo.create<Ops>({ ops: {} }));
    const hb = await Promise.all(ha.map((h) => findSoon<Ops>(b.repo, h.url)));
    await a.libp2p.hangUp(b.libp2p.peerId);
    opsA.forEach((op, i) => ha[i % 64].change((d) => void (d.ops[`a${i}`] = op)));
    opsB.forEach((op, i) => hb[i % 64].change((d) => void (d.ops[`b${i}`] = op)));
    let seenA = 0;
    let seenB = 0;
    for (const h of ha) watchKeys(h, () => seenA++);
    for (const h of hb) watchKeys(h, () => seenB++);
    const start = performance.now();
    const cpu0 = cpuMs();
    const main0 = threadMs();
    await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]);
    while (seenA < opsB.length || seenB < opsA.length) await new Promise((r) => setTimeout(r, 5));
    return { ms: performance.now() - start, cpu: cpuMs() - cpu0, main: threadMs() - main0 };
  } finally {
    await a.stop();
    await b.stop();
  }
}

/** In a child: one heal of `variant`; the native run writes both sides' signed bytes to `file`, plain heals them. */
async function child(variant: string, file: string): Promise<Healed & { bytes?: number }> {
  // Each run first heals a small partition unmeasured, so that none is timed with its code still cold: a node heals as
  // a long-running process.
  if (variant === "plain") {
    const { a, b } = JSON.parse(await readFile(file, "utf8")) as { a: string[]; b: string[] };
    await plain(fromBase64(a.slice(0, WARM_UP)), fromBase64(b.slice(0, WARM_UP)));
    return await plain(fromBase64(a), fromBase64(b));
  }
  const pool = variant === "pool" ? verifyPool() : undefined;
  try {
    await weft(pool ?? nativeVerifier(), WARM_UP);
    const { opsA, opsB, ...healed } = await weft(pool ?? nativeVerifier());
    if (!pool) await writeFile(file, JSON.stringify({ a: toBase64(opsA), b: toBase64(opsB) }));
    return healed;
  } finally {
    await pool?.close();
  }
}

const args = childArgs();
if (args) {
  console.log(JSON.stringify(await child(args[0], args[1])));
  process.exit(0);
}

const runs: Record<"inline" | "pool" | "plain", Healed[]> = { inline: [], pool: [], plain: [] };
let exchanged = 0;
const dir = await mkdtemp(join(tmpdir(), "weft-bench-heal-"));
try {
  for (let r = 0; r < ROUNDS; r++) {
    const file = join(dir, `ops-${r}.json`);
    const w = await runFresh<Healed & { bytes: number }>(import.meta.url, ["native", file]);
    runs.inline.push(w);
    runs.pool.push(await runFresh<Healed>(import.meta.url, ["pool", file]));
    runs.plain.push(await runFresh<Healed>(import.meta.url, ["plain", file]));
    exchanged = w.bytes;
    const line = (k: keyof typeof runs) => {
      const x = runs[k][r];
      return `${k} ${x.ms.toFixed(0)} ms (CPU ${x.cpu.toFixed(0)}, main thread ${x.main.toFixed(0)})`;
    };
    console.error(`round ${r + 1}: ${line("inline")}; ${line("pool")}; ${line("plain")}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const median = (k: keyof typeof runs, f: keyof Healed) =>
  percentile(runs[k].map((x) => x[f]).sort((a, b) => a - b), 50);
for (const [k, label] of [["inline", ""], ["pool", "-verify-pool"]] as const) {
  report({
    bench: BENCH,
    metric: `converge-after-heal-${2 * EACH}-divergent-ops${label}`,
    value: median(k, "ms"),
    unit: "ms",
    baseline: median("plain", "ms"),
    note:
      `baseline: plain automerge-repo; target < 1000 ms, ratio <= 1.5; median of ${ROUNDS} alternated rounds, each run a fresh process`,
  });
  report({
    bench: BENCH,
    metric: `cpu-to-converge-${2 * EACH}-divergent-ops${label}`,
    value: median(k, "cpu"),
    unit: "ms",
    baseline: median("plain", "cpu"),
    note: "this process's CPU while healing (both peers, worker threads included)",
  });
  report({
    bench: BENCH,
    metric: `main-thread-cpu-to-converge-${2 * EACH}-divergent-ops${label}`,
    value: median(k, "main"),
    unit: "ms",
    baseline: median("plain", "main"),
    note: "the main thread's CPU while healing: the thread the heal waits on",
  });
}
report({ bench: BENCH, metric: `bytes-exchanged-${2 * EACH}-divergent-ops`, value: exchanged, unit: "bytes" });
process.exit(0);
