/**
 * Run under Deno by deno.test.ts: puts sample jobs through the Deno runner
 * (permissionless `deno run` subprocesses) and through the browser backend
 * (module Web Workers, which Deno also has), and prints one JSON line per
 * run for the Node test to check.
 */
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { createBrowserWasmRunner } from "../../wasm-runners/runtime-browser/runner.ts";
import type { WasmRunner } from "../../wasm-runners/core/runner.ts";
import { createDenoWasmRunner } from "../../wasm-runners/runtime-deno/runner.ts";
import { buildSamples, type SampleName } from "../../wasm-runners/samples/build.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import type { Report } from "./deno-report.ts";

const samples = await buildSamples();
const store = new MemoryContentStore();
const data = await store.add("one\ntwo\nthree\n");

async function report(
  backend: string,
  runner: WasmRunner,
  sample: SampleName,
  args: string[],
  limits: Partial<RunSpec["limits"]> = {},
): Promise<Report> {
  const spec: RunSpec = {
    runner: "wasm",
    program: await store.add(samples[sample].component),
    args,
    inputs: [{ path: "data.txt", cid: data }],
    env: [],
    limits: { wallMs: 10_000, memoryMb: 32, outputBytes: 1 << 20, ...limits },
  };
  const handle = runner.start(spec, store);
  const logs: string[] = [];
  for await (const line of handle.logs) if (line.stream !== "system") logs.push(line.text);
  const result = await handle.done;
  const outputs = Object.fromEntries(result.outputs.map((o) => [o.path, store.text(o.cid)]));
  const overrunMs = result.status === "timeout" ? result.endedAt - result.startedAt - spec.limits.wallMs : undefined;
  return { backend, sample, args, status: result.status, reason: result.reason, outputs, logs, overrunMs };
}

async function run(...a: Parameters<typeof report>): Promise<void> {
  console.log(JSON.stringify(await report(...a)));
}

/** Doublings of a too-short wall-time limit tried before reporting the run as it was. */
const MAX_ATTEMPTS = 6;

/**
 * A job that prints `line`, then runs until its wall-time limit stops it.
 * The limit also covers loading the program into a fresh sandbox, which on
 * a loaded machine can outlast a short limit before the program prints
 * anything. So this waits for the line: while a run timed out before
 * printing it, it runs again with twice the limit.
 */
async function runPastLimit(
  backend: string,
  runner: WasmRunner,
  sample: SampleName,
  args: string[],
  line: string,
  wallMs: number,
): Promise<void> {
  for (let attempts = 1;; attempts++, wallMs *= 2) {
    const r = await report(backend, runner, sample, args, { wallMs });
    const printedBeforeTheLimit = r.status !== "timeout" || r.logs.includes(line);
    if (printedBeforeTheLimit || attempts === MAX_ATTEMPTS) return console.log(JSON.stringify({ ...r, attempts }));
  }
}

const deno = createDenoWasmRunner();
await run("deno", deno, "hasher", ["data.txt"]);
await runPastLimit("deno", deno, "spin", [], "spinning", 300);
await run("deno", deno, "memory-bomb", [], { memoryMb: 24 });
await run("deno", deno, "flood", [], { outputBytes: 50_000 });
await run("deno", deno, "escape", ["/etc/hostname"]);
await run("deno", deno, "net-probe", []);
await run("deno", deno, "upper", ["data.txt", "UP.txt"]);
await run("deno", deno, "sleep", ["200"]);
await runPastLimit("deno", deno, "sleep", ["60000"], "sleeping 60000 ms", 400);
await deno.close();

// The transpile runs in its own subprocess, under its own heap limit: one too small for jco fails that program only.
const starved = createDenoWasmRunner({ transpile: { heapMb: 8 } });
await run("deno-starved-transpile", starved, "hasher", ["data.txt"]);
await starved.close();

const browser = createBrowserWasmRunner();
await run("browser", browser, "hasher", ["data.txt"]);
await run("browser", browser, "memory-bomb", [], { memoryMb: 24 });
await run("browser", browser, "upper", ["data.txt", "UP.txt"]);
await run("browser", browser, "sleep", ["200"]);
await browser.close();
