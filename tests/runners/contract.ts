/**
 * The runner contract suite: what every run backend (wasm, nix,
 * containers, …) must do, whatever it runs. A backend's test file calls
 * `runnerContract` with its runner (or plug-in) and one recipe per case: the
 * run spec that provokes it, and, where the evidence is backend-specific,
 * a check of the finished run. The suite asserts the common behaviour —
 * statuses and reasons, log lines streamed while the job runs, outputs
 * described exactly (size, sha-256, CID of the stored bytes), limits that
 * really stop the job, stop(), no network and no escape from its inputs
 * and outputs, and a runner that keeps serving good jobs afterwards.
 *
 * A case a backend cannot express (a fork bomb where jobs have no
 * processes) is declared `{ notApplicable: "why" }` by its recipes: it then
 * shows as a skipped test with that reason, never silently missing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { advertShape } from "../../protocol/capacity/advert.ts";
import { cidOf, RAW } from "../../protocol/codec/cid.ts";
import type { ManagedRunner, RunnerHost, RunnerPlugin } from "../../protocol/runner/plugin.ts";
import type { LogLine, RunHandle, RunResult, RunSpec } from "../../protocol/runner/runner.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

/** A finished run as the suite saw it. */
export interface Finished {
  result: RunResult;
  logs: LogLine[];
  /** Log lines that arrived before `done` resolved. */
  early: LogLine[];
}

/** What a recipe gets to build its spec: the store to put programs and inputs in, and a scratch directory. */
export interface RecipeContext {
  store: MemoryContentStore;
  /** A directory outside the job holding `secret.txt`, which no job may read. */
  scratch: string;
  /** The content of `secret.txt`. */
  secret: string;
}

export interface Recipe {
  spec(ctx: RecipeContext): Promise<RunSpec>;
  /** Backend-specific evidence, checked after the common assertions. */
  check?(f: Finished, ctx: RecipeContext): void | Promise<void>;
}

/** A case this backend cannot express, and why. */
export interface NotApplicable {
  notApplicable: string;
}

export interface GoodRecipe extends Recipe {
  /** Every output the job writes, by path, with its exact content. */
  outputs: Record<string, string | Uint8Array>;
  /** Its stdout lines, in order. */
  stdout: string[];
}

export interface StopRecipe extends Recipe {
  /** A stdout line the job prints once it is running; stop() is called after it arrives. */
  running: string;
}

export interface ContractRecipes {
  /** A job that succeeds, streams stdout and writes outputs. */
  good: GoodRecipe;
  /** A job that exits non-zero: status failed with its exit code. */
  failing: Recipe & { exitCode: number };
  /** Sleeps (or loops) past its wall-time limit of `limits.wallMs`. */
  wallTime: Recipe | NotApplicable;
  /** Allocates past its memory limit. */
  memory: Recipe | NotApplicable;
  /** Writes output files past its output limit. */
  outputLimit: Recipe | NotApplicable;
  /** Tries the network with the spec's default (no network); `check` shows each attempt failed. */
  network: Recipe | NotApplicable;
  /** Tries to read `ctx.secret` outside its inputs, and to write outside its outputs; `check` shows each was denied. */
  escape: Recipe | NotApplicable;
  /** Runs until stopped, ignoring SIGTERM where it has signals. */
  ignoresStop: StopRecipe | NotApplicable;
  /** Starts processes without end. */
  forkBomb: Recipe | NotApplicable;
}

export interface ContractOptions {
  /** The backend's name in test titles, e.g. "wasm (node subprocess)". */
  name: string;
  /** The runner under test: a ready one, or a plug-in and its settings (created with a scratch state dir). */
  runner: (() => Promise<ManagedRunner>) | { plugin: RunnerPlugin<unknown>; config?: unknown };
  recipes: ContractRecipes;
}

/** Makes the spec of a run of `script` under bash: `inputs` (path → content) put in the store, `limits` over the backend's. */
export type ShellSpec = (
  script: string,
  over?: { inputs?: Record<string, string>; limits?: Partial<RunSpec["limits"]> },
) => (ctx: RecipeContext) => Promise<RunSpec>;

/**
 * The contract's recipes for every backend that runs bash in a Linux
 * sandbox (containers, and pods on Weft virtual nodes, which run on them):
 * every case applies. `wallMs` is the wall-time case's limit and
 * `forkBombWallMs` the fork bomb's: a backend with more to set up per run
 * needs longer.
 */
export function shellRecipes(bash: ShellSpec, o: { wallMs: number; forkBombWallMs: number }): ContractRecipes {
  const text = (f: Finished) => f.logs.map((l) => l.text).join("\n");
  return {
    good: {
      spec: bash(
        "cat /inputs/in.txt; echo two; printf A > /outputs/a.txt; mkdir -p /outputs/d; cp /inputs/in.txt /outputs/d/b.txt",
        { inputs: { "in.txt": "one\n" } },
      ),
      stdout: ["one", "two"],
      outputs: { "a.txt": "A", "d/b.txt": "one\n" },
    },
    failing: { spec: bash("echo about to fail; exit 3"), exitCode: 3 },
    wallTime: { spec: bash("sleep 60", { limits: { wallMs: o.wallMs } }) },
    memory: { spec: bash("tail /dev/zero", { limits: { memoryMb: 32 } }) },
    outputLimit: { spec: bash("head -c 2000000 /dev/zero > /outputs/big", { limits: { outputBytes: 500_000 } }) },
    network: {
      spec: bash(
        'for t in 127.0.0.1/22 1.1.1.1/53 10.0.2.2/80; do (exec 3<>/dev/tcp/${t%/*}/${t#*/}) 2>/dev/null && echo "reached $t" || echo "unreachable $t"; done',
      ),
      check(f) {
        assert.deepEqual(stdoutOf(f), [
          "unreachable 127.0.0.1/22",
          "unreachable 1.1.1.1/53",
          "unreachable 10.0.2.2/80",
        ]);
      },
    },
    escape: {
      spec: (ctx) =>
        bash(
          `cat ${ctx.scratch}/secret.txt 2>/dev/null || echo "no secret"; ` +
            `for f in /etc/x /inputs/in.txt /usr/x ${ctx.scratch}/x; do (echo x > $f) 2>/dev/null && echo "wrote $f" || echo "denied $f"; done`,
          { inputs: { "in.txt": "original" } },
        )(ctx),
      check(f) {
        assert.match(text(f), /no secret/);
        assert.doesNotMatch(text(f), /wrote /);
        assert.equal(stdoutOf(f).filter((l) => l.startsWith("denied")).length, 4);
      },
    },
    ignoresStop: { spec: bash("trap '' TERM; echo running; while :; do sleep 0.2; done"), running: "running" },
    forkBomb: { spec: bash(":(){ :|:& };:; sleep 60", { limits: { wallMs: o.forkBombWallMs } }) },
  };
}

export async function finish(handle: RunHandle): Promise<Finished> {
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

export const stdoutOf = (f: Finished) => f.logs.filter((l) => l.stream === "stdout").map((l) => l.text);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const bytesOf = (c: string | Uint8Array) => typeof c === "string" ? new TextEncoder().encode(c) : c;
const quietHost = (stateDir: string): RunnerHost => ({ stateDir, log: { debug() {}, info() {}, warn() {} } });

/** Register the contract's tests for one backend (call at the top level of its test file). */
export function runnerContract(o: ContractOptions): void {
  const ctx = {} as RecipeContext;
  let runner: ManagedRunner;

  /** A runner from the options; a plug-in keeps its state in `<scratch>/<stateDir>`. */
  const makeRunner = async (stateDir: string): Promise<ManagedRunner> => {
    if (typeof o.runner === "function") return await o.runner();
    const { plugin, config } = o.runner;
    const made = await plugin.create(plugin.parseConfig(config), quietHost(join(ctx.scratch, stateDir)));
    assert.ok(!("unavailable" in made), `${o.name} cannot run here: ${"unavailable" in made && made.unavailable}`);
    return made;
  };
  const run = async (recipe: Recipe) => await finish(runner.start(await recipe.spec(ctx), ctx.store));
  /** `it`, or a skip saying why when the recipe set declares the case not applicable. */
  const contractCase = <R extends Recipe>(title: string, recipe: R | NotApplicable, body: (r: R) => Promise<void>) => {
    if ("notApplicable" in recipe) {
      it(title, { skip: `not applicable to ${o.name}: ${recipe.notApplicable}` }, () => {});
    } else it(title, () => body(recipe));
  };

  describe(`runner contract: ${o.name}`, () => {
    before(async () => {
      ctx.store = new MemoryContentStore();
      ctx.scratch = await mkdtemp(join(tmpdir(), "weft-contract-"));
      ctx.secret = `top secret ${randomBytes(8).toString("hex")}`;
      await writeFile(join(ctx.scratch, "secret.txt"), ctx.secret);
      runner = await makeRunner("state");
      assert.equal(await runner.available(), true);
      await runner.warmUp();
    });

    after(async () => {
      await runner?.close();
      await runner?.close(); // idempotent
      await rm(ctx.scratch, { recursive: true, force: true });
    });

    it("advertises small, flat details that a capacity advert carries", () => {
      const details = runner.advertise();
      const advert = {
        cpu: { cores: 1, load: 0 },
        memoryMb: { total: 1024, free: 512 },
        gpus: 0,
        runners: [runner.kind],
        runnerDetails: { [runner.kind]: details },
        tags: [],
        version: "contract",
        running: 0,
        slots: 1,
        ttl: 30,
      };
      assert.deepEqual(advertShape(advert, "advert").runnerDetails, { [runner.kind]: details });
    });

    it("a good job succeeds, its logs streamed as it runs and its outputs described exactly", async () => {
      const r = o.recipes.good;
      const f = await run(r);
      assert.equal(f.result.status, "succeeded", f.result.reason);
      assert.equal(f.result.exitCode, 0);
      assert.deepEqual(stdoutOf(f), r.stdout);
      assert.ok(f.early.length > 0, "log lines arrive before the run ends");
      assert.ok(f.logs.every((l) => typeof l.at === "number" && l.at > 0));
      const expected = Object.entries(r.outputs).map(([path, content]) => {
        const bytes = bytesOf(content);
        return { path, size: bytes.length, sha256: sha256(bytes), cid: cidOf(bytes, RAW).toString() };
      }).sort((a, b) => a.path.localeCompare(b.path));
      assert.deepEqual([...f.result.outputs].sort((a, b) => a.path.localeCompare(b.path)), expected);
      for (const out of f.result.outputs) {
        const stored = await ctx.store.get(out.cid);
        assert.ok(stored, `output ${out.path} is in the store`);
        assert.equal(sha256(stored), out.sha256);
      }
      assert.ok(f.result.startedAt <= f.result.endedAt);
      await r.check?.(f, ctx);
    });

    it("a job that exits non-zero fails with its exit code", async () => {
      const r = o.recipes.failing;
      const f = await run(r);
      assert.equal(f.result.status, "failed");
      assert.equal(f.result.exitCode, r.exitCode);
      await r.check?.(f, ctx);
    });

    contractCase("a job past its wall-time limit is stopped: timeout, no outputs", o.recipes.wallTime, async (r) => {
      const spec = await r.spec(ctx);
      const f = await finish(runner.start(spec, ctx.store));
      assert.equal(f.result.status, "timeout");
      assert.equal(f.result.reason, `exceeded its ${spec.limits.wallMs} ms wall-time limit`);
      assert.deepEqual(f.result.outputs, []);
      await r.check?.(f, ctx);
    });

    contractCase("a job past its memory limit is stopped: out-of-memory", o.recipes.memory, async (r) => {
      const f = await run(r);
      assert.equal(f.result.status, "out-of-memory", f.result.reason);
      assert.deepEqual(f.result.outputs, []);
      await r.check?.(f, ctx);
    });

    contractCase(
      "a job writing past its output limit: output-limit, nothing kept",
      o.recipes.outputLimit,
      async (r) => {
        const f = await run(r);
        assert.equal(f.result.status, "output-limit", f.result.reason);
        assert.deepEqual(f.result.outputs, []);
        await r.check?.(f, ctx);
      },
    );

    contractCase("a job has no network unless its spec asks", o.recipes.network, async (r) => {
      const spec = await r.spec(ctx);
      assert.notEqual(spec.network, true, "the recipe uses the default");
      const f = await finish(runner.start(spec, ctx.store));
      assert.ok(["succeeded", "failed"].includes(f.result.status), f.result.reason);
      assert.ok(r.check, "the recipe shows each attempt failed");
      await r.check(f, ctx);
    });

    contractCase("a job cannot read or write outside its inputs and outputs", o.recipes.escape, async (r) => {
      const f = await run(r);
      const seen = f.logs.map((l) => l.text).join("\n") +
        (await Promise.all(f.result.outputs.map(async (out) => new TextDecoder().decode(await ctx.store.get(out.cid)))))
          .join("");
      assert.ok(!seen.includes(ctx.secret), "the secret outside its inputs never reaches its logs or outputs");
      assert.ok(r.check, "the recipe shows each attempt was denied");
      await r.check(f, ctx);
    });

    contractCase(
      "stop() ends a running job at once: stopped, with the reason given",
      o.recipes.ignoresStop,
      async (r) => {
        const handle = runner.start(await r.spec(ctx), ctx.store);
        for await (const line of handle.logs) if (line.stream === "stdout" && line.text === r.running) break;
        await handle.stop("evicted for a higher-priority job");
        const result = await handle.done;
        assert.equal(result.status, "stopped");
        assert.equal(result.reason, "evicted for a higher-priority job");
        assert.deepEqual(result.outputs, []);
      },
    );

    contractCase("a fork bomb is contained and ends", o.recipes.forkBomb, async (r) => {
      const f = await run(r);
      assert.notEqual(f.result.status, "succeeded");
      await r.check?.(f, ctx);
    });

    it("a run prepared while its claim is made runs nothing until start(), then runs as a started one", async (t) => {
      if (!runner.prepare) return t.skip(`${o.name} has no prepare: the scheduler starts its runs afresh`);
      const r = o.recipes.good;
      const prepared = runner.prepare(await r.spec(ctx), ctx.store);
      // A whole run starts and ends beside it: the prepared one, made ready meanwhile, has still run nothing.
      assert.equal((await run(r)).result.status, "succeeded");
      const letGo = Date.now();
      const f = await finish(prepared.start());
      assert.equal(f.result.status, "succeeded", f.result.reason);
      assert.deepEqual(stdoutOf(f), r.stdout);
      assert.deepEqual(f.result.outputs.map((out) => out.path).sort(), Object.keys(r.outputs).sort());
      assert.ok(f.result.startedAt >= letGo, "it starts when let go");
      for (const line of f.logs) assert.ok(line.at >= letGo, `"${line.text}" came before the run was let go`);
    });

    it("a prepared run that is cancelled ends stopped, having run nothing", async (t) => {
      if (!runner.prepare) return t.skip(`${o.name} has no prepare: the scheduler starts its runs afresh`);
      const r = o.recipes.good;
      const prepared = runner.prepare(await r.spec(ctx), ctx.store);
      assert.equal((await run(r)).result.status, "succeeded");
      await prepared.cancel("not claimed: another node's claim won");
      const f = await finish(prepared.start());
      assert.equal(f.result.status, "stopped");
      assert.equal(f.result.reason, "not claimed: another node's claim won");
      assert.deepEqual(stdoutOf(f), []);
      assert.deepEqual(f.result.outputs, []);
    });

    it("keeps serving good jobs afterwards, several at once", async () => {
      const results = await Promise.all([1, 2, 3].map(() => run(o.recipes.good)));
      for (const f of results) {
        assert.equal(f.result.status, "succeeded", f.result.reason);
        assert.deepEqual(stdoutOf(f), o.recipes.good.stdout);
      }
    });

    it("close() stops the runs still going", async (t) => {
      const r = o.recipes.ignoresStop;
      if ("notApplicable" in r) return t.skip(`no job that runs until stopped: ${r.notApplicable}`);
      const second = await makeRunner("state-2");
      const handle = second.start(await r.spec(ctx), ctx.store);
      for await (const line of handle.logs) if (line.stream === "stdout" && line.text === r.running) break;
      await second.close();
      assert.equal((await handle.done).status, "stopped");
    });
  });
}
