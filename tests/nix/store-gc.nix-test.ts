/**
 * Garbage collection of the nix runner's store, with real nix: a collection
 * frees what no run needs (the busybox tree and sources builds copied in)
 * and keeps each succeeded run's outputs, which a `--check` rebuild then
 * compares against; a build going on while the store is collected, even
 * down to nothing, is not disturbed; a size budget drops the oldest runs'
 * outputs first; and a runner whose store passed `max_store_mb` collects it
 * by itself after a run; and the store is measured by what nix registered
 * in it (one database query), not by walking it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ManagedRunner, RunResult, RunSpec } from "../../protocol/runner/index.ts";
import { nixPaths, parseNixConfig } from "../../bridges/nix/config.ts";
import { nixPlugin } from "../../bridges/nix/runner.ts";
import { collectGarbage, storeBytes } from "../../bridges/nix/store-gc.ts";
import { runNix } from "../../bridges/nix/process.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { nixSpec, removeProjects, storeProject, WORDS_PROJECT, writeProject } from "./projects.ts";

const quiet = { debug() {}, info() {}, warn() {} };
const store = new MemoryContentStore();
const states: string[] = [];
const runners: ManagedRunner[] = [];

/** A runner with its state in `stateDir` (default: a fresh one). */
async function makeRunner(
  settings: Record<string, unknown> = {},
  stateDir = mkdtempSync(join(tmpdir(), "weft-nix-gc-")),
) {
  states.push(stateDir);
  const config = nixPlugin.parseConfig(settings);
  const made = await nixPlugin.create(config, { stateDir, log: quiet });
  if ("unavailable" in made) throw new Error(`nix must run here for these tests (.ci/setup): ${made.unavailable}`);
  runners.push(made);
  return { runner: made, paths: nixPaths(parseNixConfig(settings), stateDir) };
}

async function build(runner: ManagedRunner, spec: RunSpec): Promise<RunResult> {
  const handle = runner.start(spec, store);
  for await (const _ of handle.logs) { /* drained */ }
  return await handle.done;
}

/** The names (without hash) of what is in a store. */
function storeNames(storeRoot: string): string[] {
  return readdirSync(join(storeRoot, "store")).filter((n) => /^[0-9a-z]{32}-/.test(n)).map((n) => n.slice(33));
}

/** Where a store path (`/nix/store/…`) is on the host. */
const onHost = (storeRoot: string, path: string) => join(storeRoot, path.replace(/^\/nix\//, ""));

const outPath = (r: RunResult) => r.build!.materials.find((m) => m.name === "nix-output:out")!.uri!;

describe("nix store garbage collection", { timeout: 300_000 }, () => {
  let source: { cid: string };
  before(async () => {
    source = await storeProject(
      writeProject({
        ...WORDS_PROJECT,
        "slow.nix": `(import ./lib.nix {}).mk "slow" "sleep 3; echo slept > $out"`,
      }),
      store,
    );
  });
  after(async () => {
    for (const r of runners) await r.close();
    for (const s of states) rmSync(s, { recursive: true, force: true });
    removeProjects();
  });

  it("frees what no run needs, keeps each run's outputs, and drops the oldest first past a budget", async () => {
    const { runner, paths } = await makeRunner();
    const words = await build(runner, nixSpec(source, "default.nix"));
    assert.equal(words.status, "succeeded", words.reason);
    assert.ok(storeNames(paths.storeRoot).includes("busybox"), "the build copied its busybox tree in");

    const first = await collectGarbage(paths);
    assert.ok(first.afterBytes < first.beforeBytes, `freed space: ${JSON.stringify(first)}`);
    assert.equal(await storeBytes(paths.storeRoot), first.afterBytes);
    assert.ok(!storeNames(paths.storeRoot).includes("busybox"), "the busybox tree no run needs is gone");
    assert.ok(existsSync(onHost(paths.storeRoot, outPath(words))), "the run's output is kept");
    assert.deepEqual({ dropped: first.runsDropped, kept: first.runsKept }, { dropped: 0, kept: 1 });

    const checked = await build(runner, nixSpec(source, "default.nix", { args: ["--check"] }));
    assert.equal(checked.status, "succeeded", checked.reason);
    assert.deepEqual(checked.build?.rebuild, { identical: true, differing: [] });
    assert.equal(outPath(checked), outPath(words));

    const slow = await build(runner, nixSpec(source, "slow.nix"));
    assert.equal(slow.status, "succeeded", slow.reason);
    const rooted = await collectGarbage(paths);
    const budget = await collectGarbage(paths, rooted.afterBytes - 1);
    // The words output is rooted by its first run and by the --check run: it goes only when both have been dropped.
    assert.equal(budget.runsDropped, 2, JSON.stringify(budget));
    assert.equal(budget.runsKept, 1);
    assert.ok(!existsSync(onHost(paths.storeRoot, outPath(words))), "the oldest run's output went first");
    assert.ok(existsSync(onHost(paths.storeRoot, outPath(slow))), "the newest run's output stays");

    const all = await collectGarbage(paths, 0);
    assert.equal(all.runsKept, 0);
    assert.ok(!existsSync(onHost(paths.storeRoot, outPath(slow))));
  });

  it("measures the store by what nix registered in it, without walking it", async () => {
    const { runner, paths } = await makeRunner();
    const words = await build(runner, nixSpec(source, "default.nix"));
    assert.equal(words.status, "succeeded", words.reason);
    const listed = await runNix({
      argv: ["nix", "path-info", "--json", "--all"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: paths.runsDir, NIX_CONF_DIR: paths.confDir },
      cwd: paths.runsDir,
      storeRoot: paths.storeRoot,
      stdout: "keep",
      onLine() {},
    });
    assert.equal(listed.code, 0);
    const registered = (JSON.parse(listed.stdout) as { narSize: number }[]).reduce((a, p) => a + p.narSize, 0);
    // Bytes in the store's directory that nix never registered (a crashed build's leftovers) are not its paths.
    writeFileSync(join(paths.storeRoot, "store", "not-a-store-path"), new Uint8Array(8 << 20));
    assert.equal(await storeBytes(paths.storeRoot), registered);
  });

  it("leaves a build that is going on alone, even when the store is collected to nothing", async () => {
    const { runner, paths } = await makeRunner();
    const handle = runner.start(nixSpec(source, "slow.nix"), store);
    let collected: Promise<unknown> | undefined;
    for await (const line of handle.logs) {
      if (/building/.test(line.text)) collected ??= collectGarbage(paths, 0);
    }
    assert.ok(collected, "the build logged before it ended");
    await collected;
    const result = await handle.done;
    assert.equal(result.status, "succeeded", result.reason);
    assert.ok(existsSync(onHost(paths.storeRoot, outPath(result))));
  });

  it("collects by itself after a run once the store passed max_store_mb", async () => {
    const { runner, paths } = await makeRunner({ max_store_mb: 1 });
    const words = await build(runner, nixSpec(source, "default.nix"));
    assert.equal(words.status, "succeeded", words.reason);
    await runner.close(); // waits for the collection the run started
    assert.ok(!storeNames(paths.storeRoot).includes("busybox"), "collected after the run");
    assert.ok(await storeBytes(paths.storeRoot) <= 1024 * 1024);
    assert.ok(existsSync(onHost(paths.storeRoot, outPath(words))), "its output fits in the budget and stays");
  });

  it("weft nix gc collects the peer's store, and with --max-mb its runs' outputs too", async () => {
    const home = mkdtempSync(join(tmpdir(), "weft-nix-gc-home-"));
    states.push(home);
    const { runner, paths } = await makeRunner({}, join(home, "cache", "nix"));
    const words = await build(runner, nixSpec(source, "default.nix"));
    assert.equal(words.status, "succeeded", words.reason);
    const weft = (...args: string[]) =>
      JSON.parse(execFileSync(process.execPath, ["peer/cli/weft.ts", "nix", "gc", "--json", ...args], {
        env: { ...process.env, WEFT_HOME: home },
        encoding: "utf8",
      }));
    const plain = weft();
    assert.ok(plain.freedBytes > 0, JSON.stringify(plain));
    assert.equal(plain.runsKept, 1);
    assert.ok(existsSync(onHost(paths.storeRoot, outPath(words))));
    const budget = weft("--max-mb", "0");
    assert.deepEqual({ dropped: budget.runsDropped, kept: budget.runsKept }, { dropped: 1, kept: 0 });
    assert.ok(!existsSync(onHost(paths.storeRoot, outPath(words))));
  });
});
