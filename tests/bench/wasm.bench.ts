/**
 * The WebAssembly runner on Node against raw `WebAssembly.instantiate` of
 * the same core module with node:wasi (preopening real directories), each
 * figure with a baseline that pays for the same isolation:
 *
 *   warm call:  instantiate + run, same thread, code loaded and compiled —
 *               the jco glue and preview2 sandbox against raw. Target ≤ 3×.
 *   cold start: a fresh sandbox per job (the runner's: a subprocess), transpile cached on disk —
 *               the runner (new runner: read the cache, cap memories, compile,
 *               spawn and load the sandbox subprocess, run, store outputs)
 *               against a fresh worker compiling and running the core module.
 *               Target ≤ 3×.
 *   warm run:   a worker already started and waiting — the runner's spare
 *               sandbox against a waiting raw worker given the compiled module.
 *   runaway:    how long past its wall-time limit a job runs before `done`:
 *               an infinite loop (spin) and a job blocked on the clock (sleep).
 *
 * The job is the hasher sample on a 1 KiB input, reading /inputs and writing
 * /outputs in every case.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Worker } from "node:worker_threads";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { transpileComponent } from "../../wasm-runners/core/transpile.ts";
import type { WasmRunner } from "../../wasm-runners/core/runner.ts";
import { createNodeWasmRunner } from "../../wasm-runners/runtime-node/runner.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { OutputBudget } from "../../wasm-runners/sandbox/budget.ts";
import { jobImports } from "../../wasm-runners/sandbox/imports.ts";
import { inputTree } from "../../wasm-runners/sandbox/tree.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { interleaved, percentile, report } from "./report.ts";

// node:wasi warns that it is experimental, once per thread; the baseline needs it all the same.
process.removeAllListeners("warning");
const { WASI } = await import("node:wasi");

const BENCH = "wasm";
const samples = await buildSamples();
const store = new MemoryContentStore();
const input = new Uint8Array(1024).map((_, i) => i & 0xff);
const scratch = await mkdtemp(join(tmpdir(), "weft-wasm-bench-"));
const cacheDir = join(scratch, "transpiled");

const hasherSpec: RunSpec = {
  runner: "wasm",
  program: await store.add(samples.hasher.component),
  args: ["in.bin"],
  inputs: [{ path: "in.bin", cid: await store.add(input) }],
  env: [],
  limits: { wallMs: 10_000, memoryMb: 32, outputBytes: 1 << 20 },
};

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

async function timed(runner: WasmRunner, spec: RunSpec): Promise<number> {
  const started = performance.now();
  const result = await runner.start(spec, store).done;
  if (result.status !== "succeeded") throw new Error(`bench run ${result.status}: ${result.reason}`);
  return performance.now() - started;
}

// Raw: the hasher's core module with node:wasi, preopening real directories.
const rawIn = join(scratch, "in");
const rawOut = join(scratch, "out");
await Promise.all([rawIn, rawOut].map((d) => mkdir(d)));
await writeFile(join(rawIn, "in.bin"), input);
const devNull = openSync("/dev/null", "w");
const coreModule = await WebAssembly.compile(samples.hasher.core as Uint8Array<ArrayBuffer>);
async function raw(): Promise<void> {
  const wasi = new WASI({
    version: "preview1",
    args: ["job", "in.bin"],
    env: {},
    preopens: { "/inputs": rawIn, "/outputs": rawOut },
    stdout: devNull,
    returnOnExit: true,
  });
  const instance = await WebAssembly.instantiate(coreModule, wasi.getImportObject() as WebAssembly.Imports);
  if (wasi.start(instance) !== 0) throw new Error("raw hasher failed");
}

// The raw baseline in its own worker thread: says "ready", takes the core module (bytes to compile, or
// compiled) and runs it once, as the runner's sandbox worker does with a job.
const RAW_WORKER = `
process.removeAllListeners("warning");
const { parentPort, workerData } = require("node:worker_threads");
const { WASI } = require("node:wasi");
parentPort.once("message", async (module) => {
  const wasi = new WASI({
    version: "preview1",
    args: ["job", "in.bin"],
    env: {},
    preopens: { "/inputs": workerData.rawIn, "/outputs": workerData.rawOut },
    stdout: workerData.devNull,
    returnOnExit: true,
  });
  const made = await WebAssembly.instantiate(module, wasi.getImportObject());
  parentPort.postMessage(wasi.start(made.instance ?? made));
});
parentPort.postMessage("ready");
`;

function rawWorker(): { ready: Promise<unknown>; run(module: Uint8Array | WebAssembly.Module): Promise<void> } {
  const worker = new Worker(RAW_WORKER, { eval: true, workerData: { rawIn, rawOut, devNull }, env: {} });
  const ready = new Promise((resolve) => worker.once("message", resolve));
  return {
    ready,
    async run(module) {
      await ready;
      const code = await new Promise((resolve) => {
        worker.once("message", resolve);
        worker.postMessage(module);
      });
      await worker.terminate();
      if (code !== 0) throw new Error(`raw hasher in a worker exited ${code}`);
    },
  };
}

// The component alone, in this thread, its glue loaded once: what a sandbox
// does for a job between receiving it and reporting back.
const firstTranspile = performance.now();
const transpiled = await transpileComponent(hasherSpec.program, samples.hasher.component);
const transpileMs = performance.now() - firstTranspile;
const modules = new Map(
  await Promise.all(
    transpiled.modules.map(async ([n, b]) => [n, await WebAssembly.compile(b as Uint8Array<ArrayBuffer>)] as const),
  ),
);
const instantiate = new Function(transpiled.glue)();
async function inSandbox(): Promise<void> {
  const world = jobImports({
    inputs: inputTree([["in.bin", input]]),
    outputs: { dir: {} },
    args: ["job", "in.bin"],
    env: [],
    wallClockSeconds: 0,
    budget: new OutputBudget(1 << 20),
    log: () => {},
  });
  const component = await instantiate(
    (name: string) => modules.get(name),
    world.imports,
    (m: WebAssembly.Module, i: WebAssembly.Imports) => new WebAssembly.Instance(m, i),
  );
  component["wasi:cli/run@0.2.12"].run();
}

const ops = await interleaved({ raw, inSandbox }, 5, 300);
const rawMs = 1000 / ops.raw;
report({
  bench: BENCH,
  metric: "raw core module call (WebAssembly.instantiate + node:wasi)",
  value: rawMs,
  unit: "ms",
});
report({
  bench: BENCH,
  metric: "warm call: component in the sandbox (jco glue + preview2 shim)",
  value: 1000 / ops.inSandbox,
  unit: "ms",
  baseline: rawMs,
  note: "instantiate + run of the hasher, same thread, code loaded and compiled; baseline raw; target ≤ 3×",
});

// Cold: a fresh worker per job, both sides; the runner is new each time and reads the transpile from disk.
const first = createNodeWasmRunner({ cacheDir, warm: false });
await timed(first, hasherSpec);
await first.close();
const rawBytes = samples.hasher.core;
const coldRaw: number[] = [];
const coldRunner: number[] = [];
for (let i = 0; i < 9; i++) {
  const started = performance.now();
  await rawWorker().run(rawBytes);
  coldRaw.push(performance.now() - started);
  const cold = createNodeWasmRunner({ cacheDir, warm: false });
  coldRunner.push(await timed(cold, hasherSpec));
  await cold.close();
}
report({
  bench: BENCH,
  metric: "cold start: raw core module in a fresh worker (median)",
  value: median(coldRaw),
  unit: "ms",
  note: "spawn a worker, compile the core module from bytes, instantiate, run",
});
report({
  bench: BENCH,
  metric: "cold start: runner, new sandbox, transpile cached on disk (median)",
  value: median(coldRunner),
  unit: "ms",
  baseline: median(coldRaw),
  note: "start() to done on a new runner: read cache, cap memories, compile, spawn and load the sandbox, " +
    "run, store outputs; baseline raw in a fresh worker; target ≤ 3×",
});

// Warm: a worker is started and waiting for the job; programs are compiled and cached.
const warm = createNodeWasmRunner({ cacheDir });
await timed(warm, hasherSpec);
const warmRaw: number[] = [];
const warmRunner: number[] = [];
for (let i = 0; i < 15; i++) {
  const worker = rawWorker();
  await worker.ready;
  const started = performance.now();
  await worker.run(coreModule);
  warmRaw.push(performance.now() - started);
  await warm.warmUp();
  warmRunner.push(await timed(warm, hasherSpec));
}
report({
  bench: BENCH,
  metric: "warm run: raw core module in a waiting worker (median)",
  value: median(warmRaw),
  unit: "ms",
  note: "post the compiled module to a started worker, instantiate, run",
});
report({
  bench: BENCH,
  metric: "warm run: runner, spare sandbox waiting (median)",
  value: median(warmRunner),
  unit: "ms",
  baseline: median(warmRaw),
  note:
    "start() to done: hand-off, evaluate the glue, instantiate, run, outputs stored; baseline raw in a waiting worker",
});
report({ bench: BENCH, metric: "first transpile of the hasher component (jco)", value: transpileMs, unit: "ms" });

// Runaway: how long past its wall-time limit a job runs before `done`, counted from the hand-off to the sandbox.
async function overrun(sample: "spin" | "sleep", args: string[]): Promise<number[]> {
  const spec: RunSpec = {
    ...hasherSpec,
    program: await store.add(samples[sample].component),
    args,
    inputs: [],
    limits: { ...hasherSpec.limits, wallMs: 250 },
  };
  const overruns: number[] = [];
  for (let i = 0; i < 7; i++) {
    await warm.warmUp();
    const handle = warm.start(spec, store);
    let handedOff = 0;
    for await (const line of handle.logs) {
      if (line.stream === "system" && line.text.startsWith("running")) handedOff = line.at;
    }
    const result = await handle.done;
    if (result.status !== "timeout") throw new Error(`${sample} ended ${result.status}: ${result.reason}`);
    overruns.push(result.endedAt - (handedOff + spec.limits.wallMs));
  }
  return overruns;
}
for (
  const [sample, args, what] of [
    ["spin", [], "an infinite wasm loop"],
    ["sleep", ["60000"], "a job blocked waiting on the monotonic clock"],
  ] as const
) {
  const overruns = await overrun(sample, [...args]);
  report({
    bench: BENCH,
    metric: `runaway job (${sample}) stopped after its 250 ms wall-time limit (median)`,
    value: median(overruns),
    unit: "ms",
    note: `max ${Math.max(...overruns)} ms over ${overruns.length} runs; the sandbox killed on ${what}`,
  });
}

await warm.close();
await rm(scratch, { recursive: true, force: true });
