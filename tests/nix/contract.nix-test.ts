/**
 * The Nix runner against the shared runner contract (tests/runners/contract.ts),
 * with real nix and busybox builders: each case is a derivation in a packed
 * source tree. The good job's source carries a fresh nonce every time, so
 * every run really builds (nix prints nothing for a derivation already built).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { nixPlugin } from "../../bridges/nix/runner.ts";
import type { RunnerPlugin, RunSpec } from "../../protocol/runner/index.ts";
import { type Finished, type RecipeContext, runnerContract, stdoutOf } from "../runners/contract.ts";
import { after } from "node:test";
import { nixSpec, removeProjects, storeProject, writeProject } from "./projects.ts";

const drv = (name: string, script: string) => `(import ./lib.nix {}).mk "${name}" ''\n${script}\n''\n`;
const out = (f: Finished) => stdoutOf(f).join("\n");

/** One project holding every hostile derivation, stored once per store. */
const hostile = new WeakMap<object, Promise<{ cid: string }>>();
function hostileSource(ctx: RecipeContext): Promise<{ cid: string }> {
  let source = hostile.get(ctx.store);
  if (!source) {
    source = storeProject(
      writeProject({
        "fail.nix": drv("fail", "echo failing on purpose; exit 3"),
        "sleep.nix": drv("sleep", "echo going to sleep; sleep 600"),
        "hog.nix": drv("hog", 'x=$(head -c 400000000 /dev/zero | tr "\\0" a); echo "$x" > $out'),
        "big.nix": drv("big", "head -c 3000000 /dev/zero > $out"),
        "network.nix": `derivation {
  name = "network"; system = builtins.currentSystem;
  builder = "\${(import ./lib.nix {}).bb}/sh"; PATH = "\${(import ./lib.nix {}).bb}";
  # Fixed-output: the one kind of build nix would otherwise let reach the network.
  outputHashMode = "flat"; outputHashAlgo = "sha256";
  outputHash = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
  args = [ "-c" "wget -T 3 -O - http://1.1.1.1/ && echo NET-OK || echo NET-DENIED; nc -w 2 127.0.0.1 22 </dev/null && echo LOOPBACK-OK || echo LOOPBACK-DENIED; printf x > $out" ];
}`,
        "escape.nix": drv(
          "escape",
          `cat ${join(ctx.scratch, "secret.txt")} && echo READ-OK || echo READ-DENIED
echo x > ${join(ctx.scratch, "escaped")} && echo WRITE-OK || echo WRITE-DENIED
mkdir $out`,
        ),
        "deaf.nix": drv("deaf", 'trap "" TERM INT HUP; echo ignoring signals; while true; do sleep 1; done'),
        "forkbomb.nix": drv("forkbomb", "echo forking; f() { f | f & }; f; sleep 600"),
      }),
      ctx.store,
    );
    hostile.set(ctx.store, source);
  }
  return source;
}

const build = (file: string, limits?: Partial<RunSpec["limits"]>) => async (ctx: RecipeContext) => {
  const spec = nixSpec(await hostileSource(ctx), file);
  return { ...spec, limits: { ...spec.limits, ...limits } };
};

after(removeProjects);

runnerContract({
  name: "nix",
  runner: { plugin: nixPlugin as RunnerPlugin<unknown>, config: { max_processes: 64 } },
  recipes: {
    good: {
      async spec(ctx) {
        const nonce = randomBytes(8).toString("hex");
        const script = `# ${nonce}
echo hello from nix
echo second line
mkdir -p $out/sub; printf alpha > $out/a.txt; printf beta > $out/sub/b.txt`;
        return nixSpec(await storeProject(writeProject({ "good.nix": drv("good", script) }), ctx.store), "good.nix");
      },
      stdout: ["hello from nix", "second line"],
      outputs: { "out/a.txt": "alpha", "out/sub/b.txt": "beta" },
      check(f) {
        assert.match(f.result.build!.materials[0].uri!, /-good\.drv$/);
      },
    },
    failing: { spec: build("fail.nix"), exitCode: 3 },
    wallTime: { spec: build("sleep.nix", { wallMs: 2000 }) },
    memory: { spec: build("hog.nix", { memoryMb: 64 }) },
    outputLimit: { spec: build("big.nix", { outputBytes: 1_000_000 }) },
    network: {
      spec: build("network.nix"),
      check(f) {
        assert.match(out(f), /NET-DENIED/);
        assert.match(out(f), /LOOPBACK-DENIED/);
        assert.doesNotMatch(out(f), /NET-OK|LOOPBACK-OK/);
      },
    },
    escape: {
      spec: build("escape.nix"),
      check(f, ctx) {
        assert.match(out(f), /READ-DENIED/);
        assert.match(out(f), /WRITE-DENIED/);
        assert.equal(existsSync(join(ctx.scratch, "escaped")), false);
      },
    },
    ignoresStop: { spec: build("deaf.nix"), running: "ignoring signals" },
    forkBomb: { spec: build("forkbomb.nix", { wallMs: 5000 }) },
  },
});
