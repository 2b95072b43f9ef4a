/**
 * Run under Deno by deno.test.ts: puts sample jobs through the Deno runner
 * (permissionless `deno run` subprocesses) and through the browser backend
 * (module Web Workers, which Deno also has), and prints one JSON line per
 * run for the Node test to check.
 */
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { createBrowserWasmRunner } from "../../wasm-runners/browser/runner.ts";
import type { WasmRunner } from "../../wasm-runners/core/runner.ts";
import { createDenoWasmRunner } from "../../wasm-runners/deno/runner.ts";
import { buildSamples, type SampleName } from "../../wasm-runners/samples/build.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

const samples = await buildSamples();
const store = new MemoryContentStore();
const data = await store.add("one\ntwo\nthree\n");

async function run(
  backend: string,
  runner: WasmRunner,
  sample: SampleName,
  args: string[],
  limits: Partial<RunSpec["limits"]> = {},
): Promise<void> {
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
  console.log(
    JSON.stringify({ backend, sample, args, status: result.status, reason: result.reason, outputs, logs, overrunMs }),
  );
}

const deno = createDenoWasmRunner();
await run("deno", deno, "hasher", ["data.txt"]);
await run("deno", deno, "spin", [], { wallMs: 300 });
await run("deno", deno, "memory-bomb", [], { memoryMb: 24 });
await run("deno", deno, "flood", [], { outputBytes: 50_000 });
await run("deno", deno, "escape", ["/etc/hostname"]);
await run("deno", deno, "net-probe", []);
await run("deno", deno, "upper", ["data.txt", "UP.txt"]);
await run("deno", deno, "sleep", ["200"]);
await run("deno", deno, "sleep", ["60000"], { wallMs: 400 });
await deno.close();

const browser = createBrowserWasmRunner();
await run("browser", browser, "hasher", ["data.txt"]);
await run("browser", browser, "memory-bomb", [], { memoryMb: 24 });
await run("browser", browser, "upper", ["data.txt", "UP.txt"]);
await run("browser", browser, "sleep", ["200"]);
await browser.close();
