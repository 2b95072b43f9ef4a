/**
 * The container runner: the ManagedRunner for specs with `runner:
 * "container"`, over whichever isolation backend create() found working.
 * It checks each spec at once (a malformed one throws before anything
 * runs), keeps track of its runs so close() can stop them all (and then
 * removes its parent cgroups if no one else's jobs are in them), and
 * advertises only the backend that really runs here.
 */
import type { ContentStore, ManagedRunner, PreparedRun, RunHandle, RunJob, RunSpec } from "#protocol/runner";
import type { IsolationBackend } from "./backend.ts";
import { removeParentIfEmpty } from "./cgroup.ts";
import { ContainerRun, type RunOptions } from "./run.ts";
import { checkContainerSpec } from "./spec.ts";

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
  /** A run of `spec`, checked at once (a malformed spec throws); with `held`, it waits for go() to run the job. */
  const launch = (spec: RunSpec, store: ContentStore, options: RunOptions | undefined, held: boolean) => {
    const run = new ContainerRun(checkContainerSpec(spec), store, ctx, options, held);
    runs.add(run);
    if (closed) void run.stop("the runner is closed");
    return run;
  };
  return {
    kind: "container",
    isolation: backend.name,
    available: () => Promise.resolve(!closed),
    start(spec: RunSpec, store: ContentStore, _job?: RunJob, options?: RunOptions): RunHandle {
      return launch(spec, store, options, false);
    },
    prepare(spec: RunSpec, store: ContentStore): PreparedRun {
      const run = launch(spec, store, {}, true);
      return {
        start: () => {
          run.go();
          return run;
        },
        cancel: (reason) => run.stop(reason),
      };
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
