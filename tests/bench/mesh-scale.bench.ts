/**
 * Scale of one space (runs on Node and Deno): create 10,000 tasks on a node
 * with durable storage, comparing throughput over the first 1,000 with the
 * last 1,000 (target: ratio >= 0.8); query times at 10k; time to load the
 * space from disk in a fresh process-equivalent node; memory per task. The
 * process's CPU time per task, first 1k against last 1k, says the same
 * without the noise of a machine others are using.
 * @bench-deno
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createNode } from "../../protocol/node/node.ts";
import { fileKeystore } from "../../peer/keystore/file-keystore.ts";
import { loadOrCreate } from "../../protocol/identity/keystore.ts";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";
import { report } from "./report.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { installNativeSha256 } from "../../peer/crypto/native-sha256.ts";

const BENCH = "mesh-scale";
const RUNTIME = "Deno" in globalThis ? "deno" : "node";
const N = Number(process.env.WEFT_BENCH_TASKS ?? 10_000);
const CONCURRENCY = 16;

const heap = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

// A peer's node: native signature checks and hashing.
installNativeSha256();
const dir = await mkdtemp(join(tmpdir(), "weft-scale-"));
try {
  const keystore = fileKeystore({ dir: join(dir, "keys") });
  const { signer } = await loadOrCreate(keystore, "node");
  let storage = await LogStorageAdapter.open({ dir: join(dir, "docs") });
  let node = await createNode({ signer, keystore, storage, verifier: nativeVerifier() });
  const space = await node.createSpace("scale");

  const done: number[] = [];
  /** This process's CPU time (µs) when each task was done: on a shared machine, what the work itself cost. */
  const cpuDone: number[] = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  let next = 0;
  const start = performance.now();
  const cpuStart = cpu();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const i = next++;
      await space.createTask({ title: `task ${i}`, labels: [`l${i % 10}`], body: "x".repeat(100) });
      done.push(performance.now());
      cpuDone.push(cpu());
    }
  }));
  const total = (performance.now() - start) / 1000;
  const rate = (from: number, to: number) =>
    (to - from) / ((done[to - 1] - (from === 0 ? start : done[from - 1])) / 1000);
  const first = rate(0, Math.min(1000, N));
  const last = rate(Math.max(0, N - 1000), N);
  report({ bench: BENCH, metric: `create-first-1k-${RUNTIME}`, value: first, unit: "tasks/s" });
  report({
    bench: BENCH,
    metric: `create-last-1k-of-${N}-${RUNTIME}`,
    value: last,
    unit: "tasks/s",
    baseline: first,
    note: "target: ratio >= 0.8",
  });
  report({ bench: BENCH, metric: `create-all-${N}-${RUNTIME}`, value: N / total, unit: "tasks/s" });
  const cpuPerTask = (from: number, to: number) =>
    (cpuDone[to - 1] - (from === 0 ? cpuStart : cpuDone[from - 1])) / 1000 / (to - from);
  const cpuFirst = cpuPerTask(0, Math.min(1000, N));
  report({ bench: BENCH, metric: `cpu-per-task-first-1k-${RUNTIME}`, value: cpuFirst, unit: "ms" });
  report({
    bench: BENCH,
    metric: `cpu-per-task-last-1k-of-${N}-${RUNTIME}`,
    value: cpuPerTask(Math.max(0, N - 1000), N),
    unit: "ms",
    baseline: cpuFirst,
    note: "process CPU per task, which other work on the machine does not inflate; target: ratio <= 1.25",
  });

  let t = performance.now();
  const runnable = space.tasks({ runnable: true }).length;
  report({ bench: BENCH, metric: `query-runnable-${N}-${RUNTIME}`, value: performance.now() - t, unit: "ms" });
  t = performance.now();
  space.tasks({ labels: ["l3"], limit: 50 });
  report({ bench: BENCH, metric: `query-label-${N}-${RUNTIME}`, value: performance.now() - t, unit: "ms" });
  if (runnable !== N) throw new Error(`expected ${N} runnable tasks, got ${runnable}`);

  await node.stop();
  await storage.close();
  const emptyHeap = heap();
  t = performance.now();
  storage = await LogStorageAdapter.open({ dir: join(dir, "docs") });
  node = await createNode({ signer, keystore, storage, verifier: nativeVerifier() });
  const loaded = node.spaces()[0];
  const count = loaded.tasks().length;
  const loadMs = performance.now() - t;
  if (count !== N) throw new Error(`loaded ${count} tasks, expected ${N}`);
  report({ bench: BENCH, metric: `load-${N}-from-disk-${RUNTIME}`, value: loadMs, unit: "ms" });
  report({
    bench: BENCH,
    metric: `heap-per-task-${RUNTIME}`,
    value: (heap() - emptyHeap) / N,
    unit: "bytes",
    note: "heap after loading the space, minus before, per task",
  });
  report({ bench: BENCH, metric: `disk-per-task-${RUNTIME}`, value: storage.stats.fileBytes / N, unit: "bytes" });
  await node.stop();
  await storage.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
