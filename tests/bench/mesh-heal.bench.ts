/**
 * Convergence after a partition heals: two peers each make 500 operations
 * apart (1,000 divergent in all), then reconnect. Time until both hold
 * identical state (target < 1 s) and the bytes the sync exchanged, against
 * plain automerge-repo peers healing the same amount of divergent changes
 * over the same transport.
 */
import process from "node:process";
import { dial, libp2pNode, partition, stateDigest } from "../helpers/nodes.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { findSoon, fullMesh, plainPeer, watchKeys } from "./mesh-rig.ts";
import { cpuMs, report } from "./report.ts";

const BENCH = "mesh-heal";
const EACH = Number(process.env.WEFT_BENCH_OPS ?? 1000) / 2;
const bytes = (n: { node: { diagnostics: { counter(k: string): number } } }) =>
  n.node.diagnostics.counter("sync.bytes.in") + n.node.diagnostics.counter("sync.bytes.out");

async function weft(): Promise<{ ms: number; cpu: number; bytes: number }> {
  const a = await libp2pNode({ verifier: nativeVerifier() });
  const b = await libp2pNode({ verifier: nativeVerifier() });
  try {
    const space = await a.node.createSpace("heal");
    const invite = await a.node.invite(space.id, { audience: b.node.did });
    await dial(b, a);
    const joined = await b.node.join(invite);
    await partition([a], [b]);
    for (let i = 0; i < EACH; i++) {
      await space.createTask({ title: `a${i}` });
      await joined.createTask({ title: `b${i}` });
    }
    const before = bytes(a) + bytes(b);
    const start = performance.now();
    const cpu0 = cpuMs();
    await dial(a, b);
    while (stateDigest(space) !== stateDigest(joined) || space.tasks().length !== 2 * EACH) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return { ms: performance.now() - start, cpu: cpuMs() - cpu0, bytes: bytes(a) + bytes(b) - before };
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
}

async function plain(): Promise<{ ms: number; cpu: number }> {
  const [a, b] = await Promise.all([plainPeer(), plainPeer()]);
  try {
    await fullMesh([a.libp2p, b.libp2p]);
    while (a.adapter.sessions.size < 1 || b.adapter.sessions.size < 1) await new Promise((r) => setTimeout(r, 10));
    type D = { ops: Record<string, Uint8Array> };
    const ha = Array.from({ length: 64 }, () => a.repo.create<D>({ ops: {} }));
    const hb = await Promise.all(ha.map((h) => findSoon<D>(b.repo, h.url)));
    await a.libp2p.hangUp(b.libp2p.peerId);
    for (let i = 0; i < EACH; i++) {
      ha[i % 64].change((d) => void (d.ops[`a${i}`] = new Uint8Array(600).fill(1)));
      hb[i % 64].change((d) => void (d.ops[`b${i}`] = new Uint8Array(600).fill(2)));
    }
    let seenA = 0;
    let seenB = 0;
    for (const h of ha) watchKeys(h, () => seenA++);
    for (const h of hb) watchKeys(h, () => seenB++);
    const start = performance.now();
    const cpu0 = cpuMs();
    await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]);
    while (seenA < EACH || seenB < EACH) await new Promise((r) => setTimeout(r, 5));
    return { ms: performance.now() - start, cpu: cpuMs() - cpu0 };
  } finally {
    await a.stop();
    await b.stop();
  }
}

const w = await weft();
const p = await plain();
report({
  bench: BENCH,
  metric: `converge-after-heal-${2 * EACH}-divergent-ops`,
  value: w.ms,
  unit: "ms",
  baseline: p.ms,
  note: "baseline: plain automerge-repo; target < 1000 ms",
});
report({
  bench: BENCH,
  metric: `cpu-to-converge-${2 * EACH}-divergent-ops`,
  value: w.cpu,
  unit: "ms",
  baseline: p.cpu,
  note: "this process's CPU while healing (both peers), which other work on the machine does not inflate",
});
report({ bench: BENCH, metric: `bytes-exchanged-${2 * EACH}-divergent-ops`, value: w.bytes, unit: "bytes" });
process.exit(0);
