/**
 * The wasm backend against the runner contract (contract.ts), through its
 * plug-in as a peer creates it: `node` subprocess sandboxes on Node,
 * `deno run` ones under `deno test`. Its recipes are the sample components
 * built from WAT (wasm-runners/samples); what only wasm does is tested in
 * tests/wasm/.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { wasmPeerPlugin } from "../../wasm-runners/plugin.ts";
import { buildSamples, type SampleName } from "../../wasm-runners/samples/build.ts";
import type { MemoryContentStore } from "../helpers/content-store.ts";
import { type Finished, type RecipeContext, runnerContract, stdoutOf } from "./contract.ts";

const LIMITS = { wallMs: 10_000, memoryMb: 32, outputBytes: 1 << 20 };
const samples = buildSamples();
const sha256 = (bytes: string | Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const blob = randomBytes(100_000);
const sums = `${sha256("hello\n")}  a.txt\n${sha256(blob)}  nested/dir/b.bin\n`;

/** A spec running `sample` with `args`, `inputs` put in the store, and limits over the defaults. */
function sample(
  name: SampleName,
  args: string[],
  inputs: Record<string, string | Uint8Array> = {},
  limits: Partial<RunSpec["limits"]> = {},
) {
  return async ({ store }: { store: MemoryContentStore }): Promise<RunSpec> => ({
    runner: "wasm",
    program: await store.add((await samples)[name].component),
    args,
    inputs: await Promise.all(Object.entries(inputs).map(async ([path, c]) => ({ path, cid: await store.add(c) }))),
    env: [],
    limits: { ...LIMITS, ...limits },
  });
}

const stderrOf = (f: Finished) => f.logs.filter((l) => l.stream === "stderr").map((l) => l.text);

runnerContract({
  name: `wasm (${"Deno" in globalThis ? "deno" : "node"} subprocess)`,
  runner: { plugin: wasmPeerPlugin },
  recipes: {
    good: {
      spec: sample("hasher", ["a.txt", "nested/dir/b.bin"], { "a.txt": "hello\n", "nested/dir/b.bin": blob }),
      outputs: { sha256sums: sums },
      stdout: sums.trimEnd().split("\n"),
    },
    failing: {
      spec: sample("upper", ["only-one-arg"]),
      exitCode: 1,
      check: (f) => assert.deepEqual(stderrOf(f), ["usage: upper IN OUT"]),
    },
    wallTime: {
      spec: sample("sleep", ["60000"], {}, { wallMs: 400 }),
      check: (f) => assert.deepEqual(stdoutOf(f), ["sleeping 60000 ms"]),
    },
    memory: {
      spec: sample("memory-bomb", [], {}, { memoryMb: 24 }),
      check: (f) => assert.match(f.result.reason!, /ran out of its 24 MB memory limit/),
    },
    outputLimit: {
      spec: sample("upper", ["big.txt", "BIG.txt"], { "big.txt": "x".repeat(200_000) }, { outputBytes: 100_000 }),
    },
    network: {
      spec: sample("net-probe", []),
      check(f) {
        const ACCESS_DENIED = "1";
        assert.equal(f.result.status, "succeeded", f.result.reason);
        assert.deepEqual(stdoutOf(f).slice(0, 3), [
          `tcp err ${ACCESS_DENIED}`,
          `udp err ${ACCESS_DENIED}`,
          `dns err ${ACCESS_DENIED}`,
        ]);
        assert.match(stdoutOf(f)[3], /^http err \d+$/);
      },
    },
    escape: {
      spec: (ctx: RecipeContext) =>
        sample("escape", [join(ctx.scratch, "secret.txt")], { "data.txt": "original" })(ctx),
      async check(f, ctx) {
        assert.equal(f.result.status, "succeeded", f.result.reason);
        const report = f.result.outputs.find((o) => o.path === "report.txt");
        assert.ok(report, JSON.stringify(f.result.outputs));
        const lines = ctx.store.text(report.cid).trim().split("\n");
        const ERRNO = { noent: "44", perm: "63", rofs: "69" };
        assert.deepEqual(Object.fromEntries(lines.map((l) => l.split(" "))), {
          "dotdot-input": ERRNO.perm,
          "absolute-input": ERRNO.perm,
          "absolute-output": ERRNO.perm,
          "dotdot-sibling": ERRNO.perm,
          "symlink-relative": "0", // a symlink may be made inside /outputs...
          "follow-relative": ERRNO.perm, // ...but not followed out of it
          "symlink-absolute": ERRNO.perm,
          "follow-absolute": ERRNO.noent,
          "write-input": ERRNO.rofs,
          "create-input": ERRNO.rofs,
          "rename-input": ERRNO.rofs,
          "link-input": ERRNO.perm,
          "dotdot-output": ERRNO.perm,
          "absolute-output-write": ERRNO.perm,
        });
        const everything = f.logs.map((l) => l.text).join("\n") +
          f.result.outputs.map((o) => ctx.store.text(o.cid)).join("");
        assert.ok(!everything.includes("leaked"), everything);
        assert.ok(f.logs.some((l) => l.stream === "system" && l.text === "output rel-link is a symlink; not kept"));
        assert.deepEqual((await readdir(ctx.scratch)).sort(), ["secret.txt", "state"]);
        assert.ok(!existsSync("/escaped.txt") && !existsSync(join(process.cwd(), "escaped.txt")));
      },
    },
    ignoresStop: { spec: sample("spin", [], {}, { wallMs: 60_000 }), running: "spinning" },
    forkBomb: { notApplicable: "a WebAssembly job has no processes: it cannot start one" },
  },
});
