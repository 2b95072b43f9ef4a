/**
 * The WebAssembly runner end to end — on Node in `node` subprocess
 * sandboxes, under `deno test` in `deno run` ones: what only wasm does.
 * Sample components built from WAT in the repository produce the right
 * outputs, see exactly their args, env and clocks; hostile ones (a busy
 * loop, a table bomb, a log flood, many files) are stopped at their limits;
 * bad programs and stores are refused; transpiled components are cached on
 * disk. What every runner must do (outputs described exactly, wall-time,
 * memory and output limits, no network, no escape, stop(), serving
 * afterwards) is the runner contract, run on wasm by tests/runners/wasm.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cidOf, RAW } from "../../protocol/codec/cid.ts";
import { isWeftError } from "../../protocol/errors.ts";
import type { LogLine, RunHandle, RunResult, RunSpec } from "../../protocol/runner/runner.ts";
import type { WasmRunner } from "../../wasm-runners/core/runner.ts";
import { createDenoWasmRunner } from "../../wasm-runners/runtime-deno/runner.ts";
import { createNodeWasmRunner } from "../../wasm-runners/runtime-node/runner.ts";
import { buildSamples, type Sample, type SampleName } from "../../wasm-runners/samples/build.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

const LIMITS = { wallMs: 10_000, memoryMb: 32, outputBytes: 1 << 20 };
/** The runner a peer on this runtime uses: `node` subprocesses on Node, `deno run` ones under `deno test`. */
const createRunner = "Deno" in globalThis ? createDenoWasmRunner : createNodeWasmRunner;

let samples: Record<SampleName, Sample>;
let store: MemoryContentStore;
let runner: WasmRunner;
let scratch: string;

interface Finished {
  result: RunResult;
  logs: LogLine[];
  /** Log lines that arrived before `done` resolved. */
  early: LogLine[];
}

async function finish(handle: RunHandle): Promise<Finished> {
  const logs: LogLine[] = [];
  let early: LogLine[] = [];
  const reading = (async () => {
    for await (const line of handle.logs) logs.push(line);
  })();
  const result = await handle.done.then((r) => {
    early = [...logs];
    return r;
  });
  await reading;
  return { result, logs, early };
}

async function spec(
  sample: SampleName,
  args: string[],
  inputs: Record<string, string | Uint8Array> = {},
  over: Omit<Partial<RunSpec>, "limits"> & { limits?: Partial<RunSpec["limits"]> } = {},
): Promise<RunSpec> {
  return {
    runner: "wasm",
    program: await store.add(samples[sample].component),
    args,
    inputs: await Promise.all(Object.entries(inputs).map(async ([path, c]) => ({ path, cid: await store.add(c) }))),
    env: [],
    ...over,
    limits: { ...LIMITS, ...over.limits },
  };
}

async function run(...args: Parameters<typeof spec>): Promise<Finished> {
  return await finish(runner.start(await spec(...args), store));
}

const stdout = (f: Finished) => f.logs.filter((l) => l.stream === "stdout").map((l) => l.text);
const output = (f: Finished, path: string) => {
  const file = f.result.outputs.find((o) => o.path === path);
  assert.ok(file, `output ${path} in ${JSON.stringify(f.result.outputs)}`);
  return store.text(file.cid);
};

before(async () => {
  samples = await buildSamples();
  store = new MemoryContentStore();
  scratch = await mkdtemp(join(tmpdir(), "weft-wasm-"));
  runner = createRunner({ cacheDir: join(scratch, "transpiled") });
  assert.equal(await runner.available(), true);
  await runner.warmUp();
});

after(async () => {
  await runner.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("sample jobs", () => {
  it("upper uppercases its input into the named output", async () => {
    const f = await run("upper", ["in.txt", "OUT.txt"], { "in.txt": "Hello, wasm world!\n" });
    assert.equal(f.result.status, "succeeded", f.result.reason);
    assert.equal(output(f, "OUT.txt"), "HELLO, WASM WORLD!\n");
    assert.deepEqual(stdout(f), ["uppercased 19 bytes"]);
  });

  it("a large output crosses from the sandbox process whole", async () => {
    const big = "abc\n".repeat(2 * 1024 * 1024);
    const f = await run("upper", ["in.txt", "OUT.txt"], { "in.txt": big }, { limits: { outputBytes: 32 << 20 } });
    assert.equal(f.result.status, "succeeded", f.result.reason);
    assert.equal(output(f, "OUT.txt"), big.toUpperCase());
  });

  it("line-count counts the lines of each input", async () => {
    const f = await run("line-count", ["three.txt", "empty.txt", "open.txt"], {
      "three.txt": "a\nb\nc\n",
      "empty.txt": "",
      "open.txt": "x\ny",
    });
    assert.equal(f.result.status, "succeeded", f.result.reason);
    assert.equal(output(f, "line-counts.txt"), "3 three.txt\n0 empty.txt\n2 open.txt\n");
  });

  it("a job sees exactly its args and env, a frozen wall clock and a job-relative monotonic clock", async () => {
    const plain = await run("env-probe", ["one", "two words"]);
    assert.equal(plain.result.status, "succeeded", plain.result.reason);
    const lines = stdout(plain);
    assert.deepEqual(lines.slice(0, 3), ["arg one", "arg two words", "realtime 0"]);
    const [before, after] = lines.filter((l) => l.startsWith("monotonic ")).map((l) => Number(l.split(" ")[1]));
    assert.ok(before < 5e9, `monotonic clock starts near zero, read ${before} ns`);
    assert.ok(after - before >= 20e6, `a 20 ms sleep advanced it by ${after - before} ns`);

    const env = [{ name: "SOURCE_DATE_EPOCH", value: "1700000000" }, { name: "GREETING", value: "hi there" }];
    const granted = await run("env-probe", [], {}, { env });
    assert.deepEqual(stdout(granted).slice(0, 3), [
      "env SOURCE_DATE_EPOCH=1700000000",
      "env GREETING=hi there",
      "realtime 1700000000000000000",
    ]);
  });

  it("sleep runs for the time it is given, then reports and writes its output", async () => {
    const f = await run("sleep", ["300"]);
    assert.equal(f.result.status, "succeeded", f.result.reason);
    assert.deepEqual(stdout(f), ["sleeping 300 ms", "done"]);
    assert.equal(output(f, "slept.txt"), "slept 300 ms\n");
    const [sleeping, done] = f.logs.filter((l) => l.stream === "stdout").map((l) => l.at);
    assert.ok(done - sleeping >= 290 && done - sleeping < 3_000, `slept ${done - sleeping} ms`);
    const bad = await run("sleep", ["soon"]);
    assert.equal(bad.result.status, "failed");
    assert.deepEqual(bad.logs.filter((l) => l.stream === "stderr").map((l) => l.text), ["usage: sleep MS"]);
  });
});

describe("hostile jobs", () => {
  it("a spec that asks for network is refused before anything runs", async () => {
    const s = await spec("hasher", [], {}, { network: true });
    assert.throws(() => runner.start(s, store), (e) => isWeftError(e, "runner/network-unavailable"));
  });

  it("an infinite loop is stopped at its wall-time limit, its logs streamed while it ran", async () => {
    const started = performance.now();
    const f = await run("spin", [], {}, { limits: { wallMs: 300 } });
    assert.equal(f.result.status, "timeout");
    assert.equal(f.result.reason, "exceeded its 300 ms wall-time limit");
    assert.ok(performance.now() - started < 5_000);
    assert.ok(f.early.some((l) => l.stream === "stdout" && l.text === "spinning"));
    assert.equal(f.logs.at(-1)!.stream, "system");
  });

  it("a table bomb (tables live outside the memory cap) ends its own sandbox, not the host", async () => {
    const f = await run("table-bomb", [], {}, { limits: { memoryMb: 32 } });
    assert.equal(f.result.status, "out-of-memory", f.result.reason);
    assert.match(f.result.reason!, /heap limit/);
    assert.ok(f.logs.some((l) => l.stream === "stdout" && l.text === "growing tables"));
    const after = await run("upper", ["t", "T"], { t: "still here" });
    assert.equal(output(after, "T"), "STILL HERE");
  });

  it("a flood of log lines is stopped at the output limit, long before its wall time", async () => {
    const started = performance.now();
    const f = await run("flood", [], {}, { limits: { outputBytes: 50_000, wallMs: 20_000 } });
    assert.equal(f.result.status, "output-limit");
    assert.ok(performance.now() - started < 5_000);
    const logged = f.logs.filter((l) => l.stream === "stdout").reduce((n, l) => n + l.text.length + 1, 0);
    assert.ok(logged <= 50_000, `${logged} bytes of logs passed`);
  });

  it("many empty files with long names count against the output limit, by entries and by names", async () => {
    const started = performance.now();
    const many = await run("many-files", ["100000"], {}, { limits: { outputBytes: 64 << 20, wallMs: 60_000 } });
    assert.equal(many.result.status, "output-limit", many.result.reason);
    assert.match(many.result.reason!, /named its entries in \/outputs with more than 1048576 bytes of paths/);
    assert.deepEqual(many.result.outputs, []);
    assert.ok(performance.now() - started < 30_000, `took ${performance.now() - started} ms`);
    const named = await run("many-files", ["300"], {}, { limits: { outputBytes: 50_000 } });
    assert.equal(named.result.status, "output-limit", named.result.reason);
    assert.match(named.result.reason!, /output files, their names and log lines/);
    const few = await run("many-files", ["20"]);
    assert.equal(few.result.status, "succeeded", few.result.reason);
    assert.equal(few.result.outputs.length, 20);
  });
});

describe("bad programs and stores", () => {
  it("a program missing from the store is an error that says so", async () => {
    const s = await spec("hasher", []);
    s.program = cidOf(new TextEncoder().encode("never stored"), RAW).toString();
    const f = await finish(runner.start(s, store));
    assert.equal(f.result.status, "error");
    assert.match(f.result.reason!, /is not in the content store/);
  });

  it("bytes that do not match their CID are refused", async () => {
    const s = await spec("hasher", ["a"], { a: "real" });
    store.blocks.set(s.inputs[0].cid, new TextEncoder().encode("forged"));
    const f = await finish(runner.start(s, store));
    assert.equal(f.result.status, "error");
    assert.match(f.result.reason!, /do not hash to that CID/);
  });

  it("a core module is not a job", async () => {
    const s = await spec("hasher", []);
    s.program = await store.add(samples.hasher.core);
    const f = await finish(runner.start(s, store));
    assert.equal(f.result.status, "error");
    assert.match(f.result.reason!, /is not a WebAssembly job Weft can run/);
  });

  it("transpiled components are kept on disk for the next runner", async () => {
    const entries = (await readdir(join(scratch, "transpiled"))).filter((e) => !e.startsWith("."));
    assert.ok(entries.includes(await store.add(samples.upper.component)), "upper, run above, was kept");
    const second = createRunner({ cacheDir: join(scratch, "transpiled"), warm: false });
    try {
      const f = await finish(second.start(await spec("upper", ["a", "A"], { a: "cached" }), store));
      assert.equal(output(f, "A"), "CACHED");
    } finally {
      await second.close();
    }
  });
});
