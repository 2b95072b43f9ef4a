/**
 * The peer's compute: the WASM runner for this runtime, the scheduler that
 * places and runs jobs from every space, and the capacity advert that tells
 * the mesh what this node offers. Programs and inputs are read from the
 * peer's artifact store, then from the mesh; outputs land in the artifact
 * store and each finished run's manifest is recorded with its result.
 */
import { join } from "node:path";
import type { WeftNode } from "#protocol/node";
import { meshContentStore, type Runner } from "#protocol/runner";
import { Scheduler, serveRunLogs } from "#protocol/scheduler";
import { encodeRunLog } from "#protocol/artifacts";
import type { WasmRunner } from "../../wasm-runners/core/runner.ts";
import { createNodeWasmRunner } from "../../wasm-runners/node/runner.ts";
import { createDenoWasmRunner } from "../../wasm-runners/deno/runner.ts";
import type { ArtifactService } from "../artifacts/service.ts";
import { VERSION } from "../version.ts";
import { CapacityAdvertiser } from "./capacity.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { Observer } from "./tracing.ts";

export interface Runs {
  scheduler: Scheduler;
  capacity: CapacityAdvertiser;
  stop(): Promise<void>;
}

/** The WASM runner for the runtime this peer runs on (a subprocess sandbox per job on both). */
function wasmRunner(cacheDir: string): WasmRunner {
  return "Deno" in globalThis ? createDenoWasmRunner({ cacheDir }) : createNodeWasmRunner({ cacheDir });
}

export async function startRuns(
  config: Config,
  node: WeftNode,
  artifacts: ArtifactService,
  log: Logger,
  observer: Observer,
): Promise<Runs> {
  const wasm = wasmRunner(join(config.home, "cache", "wasm"));
  const runners: Runner[] = [];
  if (config.capacity.slots > 0 && await wasm.available()) runners.push(wasm);
  else if (config.capacity.slots > 0) log.warn("WebAssembly is not available here: this peer runs no jobs");
  const local = artifacts.contentStore();
  const capacity = new CapacityAdvertiser(node, {
    gpus: config.capacity.gpus,
    tags: config.capacity.tags,
    runners: () => scheduler.kinds,
    running: () => scheduler.running,
    slots: () => scheduler.free,
    version: VERSION,
  }, config.capacity.advertiseSeconds * 1000);
  const scheduler = new Scheduler({
    did: node.did,
    spaces: () => node.spaces(),
    adverts: (space) => node.gossip(space)?.adverts() ?? [],
    runners,
    store: meshContentStore(local, (cid, signal) => node.fetchBlob(cid, signal)),
    slots: runners.length > 0 ? config.capacity.slots : 0,
    leaseMs: config.scheduler.leaseSeconds * 1000,
    maxCrashes: config.scheduler.maxCrashes,
    diagnostics: node.diagnostics,
    capacityChanged: () => capacity.advertiseSoon(),
    publish: (run, result) =>
      observer.run(
        `${run.space} ${run.task}`,
        { startedAt: result.startedAt, endedAt: result.endedAt, status: result.status, runner: run.spec.runner },
        { "weft.space": run.space, "weft.task": run.task },
        async () => {
          const log = encodeRunLog(run.log.lines(), run.log.dropped);
          const built = await artifacts.recordRun(run.space, { task: run.task, spec: run.spec, result, log });
          return built.cid;
        },
      ),
  });
  serveRunLogs(node, scheduler);
  capacity.start();
  scheduler.start();
  if (runners.length > 0) wasm.warmUp().catch((e) => log.warn("wasm sandbox warm-up failed", { error: String(e) }));
  log.debug("runs ready", { runners: scheduler.kinds, slots: scheduler.slots });
  return {
    scheduler,
    capacity,
    async stop() {
      capacity.stop();
      await scheduler.stop();
      await wasm.close();
    },
  };
}
