/**
 * The container runner: the ManagedRunner for specs with `runner:
 * "container"`, over whichever isolation backend create() found working.
 * It checks each spec at once (a malformed one throws before anything
 * runs), keeps track of its runs so close() can stop them all (and then
 * removes its parent cgroups if no one else's jobs are in them), and
 * advertises only the backend that really runs here.
 */
import type { ContentStore, ManagedRunner, RunHandle, RunJob, RunSpec } from "#protocol/runner";
import type { IsolationBackend } from "./backend.ts";
import { removeParentIfEmpty } from "./cgroup.ts";
import { ContainerRun, type RunOptions } from "./run.ts";
import { checkContainerSpec, imageOf } from "./spec.ts";

export interface ContainerRunner extends ManagedRunner {
  readonly kind: "container";
  readonly isolation: IsolationBackend["name"];
  /** A run, with what only a direct caller (a Weft virtual node) adds: see RunOptions. */
  start(spec: RunSpec, store: ContentStore, job?: RunJob, options?: RunOptions): RunHandle;
}

/** Whether `runner` is a container runner (and so takes RunOptions). */
export function isContainerRunner(runner: ManagedRunner): runner is ContainerRunner {
  return runner.kind === "container" && "isolation" in runner;
}

export function createContainerRunner(
  backend: IsolationBackend,
  options: { runsDir: string; stopGraceMs: number; cgroupParent: string },
): ContainerRunner {
  const runs = new Set<ContainerRun>();
  let closed = false;
  const ctx = {
    backend,
    runsDir: options.runsDir,
    stopGraceMs: options.stopGraceMs,
    ended: (run: ContainerRun) => runs.delete(run),
  };
  return {
    kind: "container",
    isolation: backend.name,
    available: () => Promise.resolve(!closed),
    start(spec: RunSpec, store: ContentStore, _job?: RunJob, options?: RunOptions): RunHandle {
      const checked = checkContainerSpec(spec);
      const run = new ContainerRun(checked, store, ctx, options);
      runs.add(run);
      if (closed) void run.stop("the runner is closed");
      return run;
    },
    prefetch(spec: RunSpec, store: ContentStore): void {
      let image: string;
      try {
        image = imageOf(checkContainerSpec(spec).program);
      } catch {
        return; // start() refuses it, saying why
      }
      backend.prefetch(image, store);
    },
    advertise: () => ({ isolation: backend.name }),
    warmUp: () => Promise.resolve(),
    async close() {
      closed = true;
      await Promise.all([...runs].map((r) => r.stop("the runner is closing")));
      await backend.close();
      await removeParentIfEmpty(options.cgroupParent);
    },
  };
}
