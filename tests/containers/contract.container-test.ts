/**
 * The container runner against the runner contract (tests/runners/
 * contract.ts), through its plug-in as a peer creates it, once with
 * bubblewrap and once with podman, on the Debian base image `.ci/setup`
 * builds. Every case applies (the shell recipes every sandbox shares): jobs
 * are processes in a real sandbox. Containers are held to more than the
 * shared recipes ask: the memory hog is a child the shell outlives (the OOM
 * kill must be seen in the kernel's counters, not guessed from an exit code),
 * and a fork bomb is reported as having hit its process limit. What only
 * containers do (source trees, cgroups left behind, the image cache) is
 * tested in runner.container-test.ts.
 */
import assert from "node:assert/strict";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { runnerContract, shellRecipes } from "../runners/contract.ts";
import { baseImageShell } from "./base-image.ts";

const bash = baseImageShell("container", { wallMs: 20_000, memoryMb: 64, outputBytes: 1 << 20 });
const shared = shellRecipes(bash, { wallMs: 1500, forkBombWallMs: 3000 });

for (const backend of ["bwrap", "podman"] as const) {
  runnerContract({
    name: `container (${backend})`,
    runner: { plugin: containerPlugin, config: { backend, cgroup_parent: `weft-contract-${process.pid}` } },
    recipes: {
      ...shared,
      memory: { spec: bash("tail /dev/zero; echo the shell outlived it", { limits: { memoryMb: 32 } }) },
      forkBomb: "notApplicable" in shared.forkBomb ? shared.forkBomb : {
        ...shared.forkBomb,
        check: (f) => assert.match(f.result.reason ?? "", /hit its process limit/, "the refused forks are reported"),
      },
    },
  });
}
