/**
 * Replication: 1,000 task operations submitted at once on one of 10 peers
 * (full mesh on loopback TCP, all in this process); for each, the time from
 * submission until all 10 have applied it (p50/p95), and the time until all
 * 10 hold identical state. Baseline: plain automerge-repo peers on the same
 * transport carrying the same bytes, submitted the same way, without Weft's
 * signing, verification and reduction. Target: ratio <= 1.5.
 *
 * All ten peers share this process's one JavaScript thread, so the nine
 * receivers' signature checks run one after another here; on separate
 * machines each peer pays only its own (see the per-peer figure).
 *
 * Weft runs twice, signatures checked on the main thread and then in the
 * peer's verify pool (worker threads, shared by the ten peers here as by
 * nothing on separate machines), each with the process's CPU and the main
 * thread's.
 */
import process from "node:process";
import { dial, libp2pNode, type TestNode } from "../helpers/nodes.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { verifyPool } from "../../peer/crypto/verify-pool.ts";
import type { Verifier } from "../../protocol/identity/index.ts";

import { findSoon, fullMesh, plainPeer, watchKeys } from "./mesh-rig.ts";
import { cpuMs, percentile, report } from "./report.ts";

const BENCH = "mesh-replication";
const PEERS = 10;
const OPS = Number(process.env.WEFT_BENCH_OPS ?? 1000);
/** This thread's CPU time so far, in ms. */
const threadMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

async function weft(verifier: Verifier): Promise<
  { latencies: number[]; total: number; cpu: number; main: number; bytes: Uint8Array[]; receiveMs: number }
> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < PEERS; i++) nodes.push(await libp2pNode({ verifier }));
  try {
    const [a] = nodes;
    const space = await a.node.createSpace("replication");
    const invites = await Promise.all(nodes.slice(1).map((n) => a.node.invite(space.id, { audience: n.node.did })));
    for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) await dial(nodes[i], nodes[j]);
    const spaces = [space, ...(await Promise.all(nodes.slice(1).map((n, i) => n.node.join(invites[i]))))];
    const arrived = new Map<string, number>(); // task -> peers that have it
    const allAt = new Map<string, number>();
    for (const s of spaces.slice(1)) {
      s.subscribe((e) => {
        if (e.type !== "tasks") return;
        const now = performance.now();
        for (const id of e.tasks) {
          if (!s.log.reducer.tasks.has(id)) continue;
          const n = (arrived.get(id) ?? 0) + 1;
          arrived.set(id, n);
          if (n === PEERS - 1) allAt.set(id, now);
        }
      });
    }
    const created = new Map<string, number>();
    const start = performance.now();
    const cpu0 = cpuMs();
    const main0 = threadMs();
    await Promise.all(Array.from({ length: OPS }, async (_, i) => {
      const t = await space.createTask({ title: `op ${i}` });
      created.set(t.id, start);
    }));
    while (allAt.size < OPS && performance.now() - start < 120_000) await new Promise((r) => setTimeout(r, 20));
    const total = Math.max(...allAt.values()) - start;
    const cpu = cpuMs() - cpu0;
    const main = threadMs() - main0;
    const latencies = [...created].map(([id, t0]) => (allAt.get(id) ?? Infinity) - t0);
    // The same signed bytes, for the baseline to carry.
    const bytes: Uint8Array[] = [];
    for (const id of space.documentIds.slice(1)) {
      const h = await a.node.repo.find<{ ops: Record<string, Uint8Array> }>(id);
      bytes.push(...Object.values(h.doc().ops));
    }
    // What one receiver spends on Weft's checks: verify and reduce the same operations afresh.
    const { SpaceAuthority } = await import("../../protocol/space/authority.ts");
    const { OpLog } = await import("../../protocol/tasks/log.ts");
    const { Diagnostics } = await import("../../protocol/diagnostics.ts");
    const authority = new SpaceAuthority({ space: space.id, verifier: nativeVerifier() });
    for (const d of space.authority.delegations) await authority.addDelegation(d.bytes);
    const log = new OpLog(authority, new Diagnostics());
    const t0 = performance.now();
    for (const b of bytes) await log.ingest(b);
    void log.reducer;
    return { latencies, total, cpu, main, bytes, receiveMs: performance.now() - t0 };
  } finally {
    await Promise.all(nodes.map((n) => n.node.stop()));
  }
}

async function plain(
  payloads: Uint8Array[],
): Promise<{ latencies: number[]; total: number; cpu: number; main: number }> {
  const peers = await Promise.all(Array.from({ length: PEERS }, () => plainPeer()));
  try {
    await fullMesh(peers.map((p) => p.libp2p));
    while (!peers.every((p) => p.adapter.sessions.size === PEERS - 1)) await new Promise((r) => setTimeout(r, 20));
    const buckets = Array.from(
      { length: 64 },
      () => peers[0].repo.create<{ ops: Record<string, Uint8Array> }>({ ops: {} }),
    );
    const arrived = new Map<string, number>();
    const allAt = new Map<string, number>();
    for (const p of peers.slice(1)) {
      for (const b of buckets) {
        const h = await findSoon<{ ops: Record<string, Uint8Array> }>(p.repo, b.url);
        watchKeys(h, (key) => {
          const n = (arrived.get(key) ?? 0) + 1;
          arrived.set(key, n);
          if (n === PEERS - 1) allAt.set(key, performance.now());
        });
      }
    }
    const created = new Map<string, number>();
    const start = performance.now();
    const cpu0 = cpuMs();
    const main0 = threadMs();
    await Promise.all(payloads.map(async (payload, i) => {
      const key = `k${i}`;
      const b = buckets[i % 64];
      b.change((d) => {
        d.ops[key] = payload;
      });
      await peers[0].repo.flush([b.documentId]);
      created.set(key, start);
    }));
    while (allAt.size < payloads.length && performance.now() - start < 120_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const total = Math.max(...allAt.values()) - start;
    const cpu = cpuMs() - cpu0;
    const main = threadMs() - main0;
    return { latencies: [...created].map(([k, t0]) => (allAt.get(k) ?? Infinity) - t0), total, cpu, main };
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
}

const pool = verifyPool();
const variants = [["", await weft(nativeVerifier())], ["-verify-pool", await weft(pool)]] as const;
await pool.close();
const [, w] = variants[0];
console.error(`weft: ${w.total.toFixed(0)} ms for ${OPS} ops; with the pool ${variants[1][1].total.toFixed(0)} ms`);
const p = await plain(w.bytes.slice(0, OPS));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ps = sorted(p.latencies);
report({
  bench: BENCH,
  metric: `verify-and-reduce-${OPS}-ops-per-peer`,
  value: w.receiveMs,
  unit: "ms",
  note: "CPU one receiving peer spends checking and applying the operations",
});
for (const [label, v] of variants) {
  const ws = sorted(v.latencies);
  for (const q of [50, 95]) {
    report({
      bench: BENCH,
      metric: `p${q}-op-to-all-${PEERS}-peers${label}`,
      value: percentile(ws, q),
      unit: "ms",
      baseline: percentile(ps, q),
      note: "baseline: plain automerge-repo; target ratio <= 1.5",
    });
  }
  report({
    bench: BENCH,
    metric: `${OPS}-ops-until-identical-on-${PEERS}-peers${label}`,
    value: v.total,
    unit: "ms",
    baseline: p.total,
    note: "target ratio <= 1.5",
  });
  report({
    bench: BENCH,
    metric: `cpu-${OPS}-ops-until-identical-on-${PEERS}-peers${label}`,
    value: v.cpu,
    unit: "ms",
    baseline: p.cpu,
    note: "this process's CPU (all ten peers, worker threads included)",
  });
  report({
    bench: BENCH,
    metric: `main-thread-cpu-${OPS}-ops-until-identical-on-${PEERS}-peers${label}`,
    value: v.main,
    unit: "ms",
    baseline: p.main,
    note: "the main thread's CPU (all ten peers' sync, and their checks unless pooled)",
  });
}
process.exit(0);
