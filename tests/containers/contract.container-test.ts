/**
 * The container runner against the runner contract (tests/runners/
 * contract.ts), through its plug-in as a peer creates it, once with
 * bubblewrap and once with podman, on the Debian base image `.ci/setup`
 * builds. Every case applies: jobs are processes in a real sandbox. What
 * only containers do (source trees, cgroups left behind, the image cache)
 * is tested in runner.container-test.ts.
 */
import assert from "node:assert/strict";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import type { MemoryContentStore } from "../helpers/content-store.ts";
import { type Finished, type RecipeContext, runnerContract, stdoutOf } from "../runners/contract.ts";
import { baseImage } from "./base-image.ts";

const LIMITS = { wallMs: 20_000, memoryMb: 64, outputBytes: 1 << 20 };
const base = baseImage();

/** A spec running `script` under bash in the base image (put in the store first), with `over` applied. */
function bash(script: string, over: { inputs?: Record<string, string>; limits?: Partial<RunSpec["limits"]> } = {}) {
  return async ({ store }: { store: MemoryContentStore }): Promise<RunSpec> => {
    const image = await base;
    await store.put(image.bytes);
    return {
      runner: "container",
      program: image.digest,
      args: ["bash", "-c", script],
      inputs: await Promise.all(
        Object.entries(over.inputs ?? {}).map(async ([path, c]) => ({ path, cid: await store.add(c) })),
      ),
      env: [],
      limits: { ...LIMITS, ...over.limits },
    };
  };
}

const text = (f: Finished) => f.logs.map((l) => l.text).join("\n");

for (const backend of ["bwrap", "podman"] as const) {
  runnerContract({
    name: `container (${backend})`,
    runner: { plugin: containerPlugin, config: { backend, cgroup_parent: `weft-contract-${process.pid}` } },
    recipes: {
      good: {
        spec: bash(
          "cat /inputs/in.txt; echo two; printf A > /outputs/a.txt; mkdir -p /outputs/d; cp /inputs/in.txt /outputs/d/b.txt",
          {
            inputs: { "in.txt": "one\n" },
          },
        ),
        stdout: ["one", "two"],
        outputs: { "a.txt": "A", "d/b.txt": "one\n" },
      },
      failing: { spec: bash("echo about to fail; exit 3"), exitCode: 3 },
      wallTime: { spec: bash("sleep 60", { limits: { wallMs: 1500 } }) },
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
        spec: async (ctx: RecipeContext) => ({
          ...await bash(
            `cat ${ctx.scratch}/secret.txt 2>/dev/null || echo "no secret"; ` +
              `for f in /etc/x /inputs/in.txt /usr/x ${ctx.scratch}/x; do (echo x > $f) 2>/dev/null && echo "wrote $f" || echo "denied $f"; done`,
            { inputs: { "in.txt": "original" } },
          )(ctx),
        }),
        check(f) {
          assert.match(text(f), /no secret/);
          assert.doesNotMatch(text(f), /wrote /);
          assert.equal(stdoutOf(f).filter((l) => l.startsWith("denied")).length, 4);
        },
      },
      ignoresStop: { spec: bash("trap '' TERM; echo running; while :; do sleep 0.2; done"), running: "running" },
      forkBomb: { spec: bash(":(){ :|:& };:; sleep 60", { limits: { wallMs: 3000 } }) },
    },
  });
}
