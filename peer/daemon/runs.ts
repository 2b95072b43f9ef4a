/**
 * The peer's compute: the runners its configuration turns on and this
 * machine can run (runner-plugins.ts), set up with the scheduler, the
 * capacity advert and run-log serving every node shares
 * (protocol/scheduler/compute.ts). Programs and inputs are read from the
 * peer's artifact store, then from the mesh (a source stored here is given to
 * the runners that stage sources as it lands); outputs land in the artifact
 * store and each finished run's manifest is recorded with its result. A
 * bridge that brings compute (a cluster) runs its jobs the same way, as its
 * own principal: its claims, results and provenance signed by its key.
 */
import type { Signer } from "#protocol/identity";
import type { WeftNode } from "#protocol/node";
import { type Compute, type ComputeOptions, runLog, startCompute } from "#protocol/scheduler";
import type { BridgeJobsHost, BridgeRuns } from "#protocol/bridge";
import { NotFound } from "#protocol/space";
import { encodeRunLog } from "#protocol/artifacts";
import { looksLikePackedSource, type Runner } from "#protocol/runner";
import type { ArtifactService } from "../artifacts/service.ts";
import { VERSION } from "../version.ts";
import { measureMachine } from "./capacity.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { createRunners, runnersCacheDir } from "./runner-plugins.ts";
import type { Observer } from "./tracing.ts";

export type Runs = Compute;

/** What every compute on this peer shares: the store, advert period, leases, and how a run is recorded (signed by `as`). */
function sharedOptions(
  config: Config,
  artifacts: ArtifactService,
  log: Logger,
  observer: Observer,
  as?: Signer,
): Pick<
  ComputeOptions,
  "store" | "advertiseMs" | "leaseMs" | "maxCrashes" | "publish" | "warmUpFailed" | "as"
> {
  return {
    store: artifacts.contentStore(),
    advertiseMs: config.capacity.advertiseSeconds * 1000,
    leaseMs: config.scheduler.leaseSeconds * 1000,
    maxCrashes: config.scheduler.maxCrashes,
    publish: (run, result) =>
      observer.run(
        `${run.space} ${run.task}`,
        { startedAt: result.startedAt, endedAt: result.endedAt, status: result.status, runner: run.spec.runner },
        { "weft.space": run.space, "weft.task": run.task },
        async () => {
          const log = encodeRunLog(run.log.lines(), run.log.dropped);
          const built = await artifacts.recordRun(run.space, { task: run.task, spec: run.spec, result, log }, as);
          return built.cid;
        },
      ),
    warmUpFailed: (kind, e) =>
      log.warn(`${kind} runner warm-up failed`, { error: String(e), ...(as ? { as: as.did } : {}) }),
    ...(as ? { as } : {}),
  };
}

/**
 * A packed source stored on this peer (`weft run` uploads one just before it submits the run) is handed at once to
 * the runners that build from sources, bytes and all (they need not read it back and hash it again), so they unpack
 * it while the run is still being submitted, signed and claimed.
 */
function stageSources(artifacts: ArtifactService, runners: readonly Runner[]): void {
  const staging = runners.filter((r) => r.stageSource);
  if (staging.length === 0) return;
  const store = artifacts.contentStore();
  artifacts.watchStored({
    wantsWhole: looksLikePackedSource,
    stored: (cid, head, whole) => {
      if (!looksLikePackedSource(head)) return;
      for (const runner of staging) runner.stageSource!(cid, store, whole);
    },
  });
}

export async function startRuns(
  config: Config,
  node: WeftNode,
  artifacts: ArtifactService,
  log: Logger,
  observer: Observer,
): Promise<Runs> {
  const runners = config.capacity.slots > 0
    ? await createRunners(config.runners, runnersCacheDir(config.home), log)
    : [];
  if (config.capacity.slots > 0 && runners.length === 0) log.warn("no runner can run here: this peer runs no jobs");
  stageSources(artifacts, runners);
  const compute = startCompute(node, {
    ...sharedOptions(config, artifacts, log, observer),
    runners,
    slots: config.capacity.slots,
    machine: () => measureMachine(config.capacity.gpus, config.capacity.tags, VERSION),
  });
  log.debug("runs ready", { runners: compute.scheduler.kinds, slots: compute.scheduler.slots });
  return compute;
}

/** How this peer runs a bridge's jobs as the bridge (BridgeContext.runJobs). */
export function bridgeJobs(
  config: Config,
  node: WeftNode,
  artifacts: ArtifactService,
  log: Logger,
  observer: Observer,
): BridgeJobsHost {
  return (as, runners, options) => {
    const compute = startCompute(node, {
      ...sharedOptions(config, artifacts, log, observer, as),
      runners,
      slots: options.slots,
      machine: (running) => ({ ...options.offer(running), version: VERSION }),
    });
    log.debug("a bridge runs jobs", { as: as.did, runners: compute.scheduler.kinds, slots: compute.scheduler.slots });
    return { stop: () => compute.stop() };
  };
}

/** How a bridge on this peer follows the mesh's runs (BridgeContext.runs): logs from wherever, manifests verified. */
export function bridgeRuns(node: WeftNode, runs: Runs, artifacts: ArtifactService): BridgeRuns {
  return {
    log(space, task, follow, signal) {
      const t = node.space(space)?.task(task);
      if (!t) throw new NotFound(`no task ${task} in space ${space} on this peer`);
      return runLog(node, runs.scheduler, space, t, follow, signal);
    },
    manifest: async (space, cid, signal) => (await artifacts.manifest(space, cid, signal)).manifest,
  };
}
