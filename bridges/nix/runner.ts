/**
 * The Nix runner plug-in (kind "nix"): builds flake outputs and `.nix`
 * files from a run's source, and runs commands in a flake's dev shell,
 * with Debian's single-user nix in a store of its own (mounted at /nix in
 * each run's private namespace, so peers sharing a machine never share
 * builds). It is created only after a real sandboxed build succeeded here.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { access, mkdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type {
  ContentStore,
  ManagedRunner,
  PreparedRun,
  RunHandle,
  RunnerHost,
  RunnerPlugin,
  RunResult,
  RunSpec,
} from "#protocol/runner";
import { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import { cgroupsUsable, clearStaleCgroups, createRunCgroup } from "./cgroup.ts";
import { type NixConfig, type NixPaths, nixPaths, parseNixConfig, writeNixConf } from "./config.ts";
import { NixJob, type NixSpare } from "./job.ts";
import { runNix, startSpare } from "./process.ts";
import { SpareSlot } from "../../peer/process/spare-slot.ts";
import { SourceCache, sourceCacheDir } from "./source-cache.ts";
import { collectGarbage, storeBytes } from "./store-gc.ts";

const exec = promisify(execFile);

/** Stored sources waiting to be staged at most (each a few ms to unpack in memory); more are left to their runs. */
const MAX_STAGING = 4;

/** A derivation with nix's built-in builder: proves the sandbox, the namespaces and the store work, offline. */
const PROBE = 'derivation { name = "weft-probe"; system = builtins.currentSystem; builder = "builtin:buildenv"; ' +
  'manifest = builtins.toFile "manifest.nix" "[]"; derivations = []; }';

class NixRunner implements ManagedRunner {
  readonly kind = "nix";
  readonly #config: NixConfig;
  readonly #paths: NixPaths;
  readonly #host: { system: string; develop: boolean };
  readonly #log: RunnerHost["log"];
  readonly #jobs = new Map<string, { job: NixJob; done: Promise<RunResult> }>();
  readonly #sources: SourceCache;
  /** Sources being staged (stageSource), one after another, and how many wait: at most MAX_STAGING. */
  #staging: Promise<void> = Promise.resolve();
  #stagingQueued = 0;
  /**
   * The next run's first process, made while no run waits for it (at start, and after each run): nix's fork, its
   * namespaces and store mount, and the cgroup moves (each a kernel-wide synchronisation in cgroup v1) so leave the
   * run's path, and the claim's write that the run is prepared in. One at a time; a run that finds none makes its own.
   */
  readonly #spare = new SpareSlot<NixSpare>(async () => {
    const cgroup = await createRunCgroup(this.#config.cgroupRoot, this.#paths.cgroupGroup, `spare-${randomUUID()}`, {
      maxProcesses: this.#config.maxProcesses,
    });
    const held = startSpare(
      { PATH: process.env.PATH ?? "/usr/bin:/bin", NIX_CONF_DIR: this.#paths.confDir },
      this.#paths.storeRoot,
    );
    try {
      await held.confine(cgroup.procs);
      if (held.exited) throw new Error("the spare's process is gone");
      return { held, cgroup };
    } catch {
      held.kill();
      await cgroup.destroy();
      return undefined;
    }
  });
  /** The store collection under way, if any: one at a time, awaited by close(). */
  #collecting?: Promise<void>;
  #closed = false;

  constructor(
    config: NixConfig,
    paths: NixPaths,
    host: { system: string; develop: boolean },
    sources: SourceCache,
    log: RunnerHost["log"],
  ) {
    this.#config = config;
    this.#sources = sources;
    this.#paths = paths;
    this.#host = host;
    this.#log = log;
    this.#spare.replenish();
  }

  /** After a run: collect the store if it passed `max_store_mb`. A failure is logged; runs go on. */
  #collectIfFull(): void {
    if (this.#collecting || this.#closed) return;
    const max = this.#config.maxStoreBytes;
    this.#collecting = (async () => {
      if (await storeBytes(this.#paths.storeRoot) <= max) return;
      const c = await collectGarbage(this.#paths, max);
      this.#log.info("collected the nix store", { ...c, maxBytes: max });
    })().catch((e) => this.#log.warn("could not collect the nix store", { error: (e as Error).message }))
      .finally(() => this.#collecting = undefined);
  }

  /**
   * A packed source landed on this node: unpack it into the source cache now, one at a time, so the build that
   * follows (`weft run` uploads, then submits) finds it there or joins the unpack under way. Past MAX_STAGING
   * waiting, more are dropped (their runs unpack them as before); a source that fails to unpack is only logged.
   */
  stageSource(cid: string, store: ContentStore, bytes?: Uint8Array): void {
    if (this.#closed || this.#stagingQueued >= MAX_STAGING) return;
    this.#stagingQueued++;
    this.#staging = this.#staging.then(async () => {
      try {
        if (!this.#closed) (await this.#sources.acquire(cid, store, bytes)).release();
      } catch (e) {
        this.#log.debug("a stored source was not staged", { cid, error: (e as Error).message });
      } finally {
        this.#stagingQueued--;
      }
    });
  }

  available(): Promise<boolean> {
    return Promise.resolve(!this.#closed);
  }

  advertise(): Record<string, string | boolean> {
    return { system: this.#host.system, develop: this.#host.develop };
  }

  warmUp(): Promise<void> {
    return Promise.resolve();
  }

  start(spec: RunSpec, store: ContentStore): RunHandle {
    return this.#launch(spec, store, false).handle;
  }

  prepare(spec: RunSpec, store: ContentStore): PreparedRun {
    const { job, handle } = this.#launch(spec, store, true);
    return {
      start: () => {
        job.go();
        return handle;
      },
      cancel: (reason) => handle.stop(reason),
    };
  }

  /** A run of `spec`; with `held`, made ready but let go only at its job's go() (Runner.prepare). */
  #launch(spec: RunSpec, store: ContentStore, held: boolean): { job: NixJob; handle: RunHandle } {
    const id = randomUUID();
    const logs = new LogChannel();
    const job = new NixJob({
      id,
      spec,
      store,
      logs,
      config: this.#config,
      storeRoot: this.#paths.storeRoot,
      confDir: this.#paths.confDir,
      workDir: join(this.#paths.runsDir, id),
      cgroupGroup: this.#paths.cgroupGroup,
      canDevelop: this.#host.develop,
      sources: this.#sources,
      takeSpare: (memoryBytes) => this.#spare.take((spare) => spare.cgroup.adopt(id, memoryBytes)),
    }, held);
    if (this.#closed) job.end("stopped", "the nix runner is closed");
    const done = job.run().finally(() => {
      logs.end();
      this.#jobs.delete(id);
      this.#spare.replenish();
      this.#collectIfFull();
    });
    this.#jobs.set(id, { job, done });
    return {
      job,
      handle: {
        id,
        logs,
        done,
        async stop(reason?: string) {
          job.end("stopped", reason ?? "stopped");
          await done;
        },
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#jobs.values()];
    for (const { job } of running) job.end("stopped", "the nix runner is closing");
    await Promise.all(running.map((r) => r.done));
    await this.#collecting;
    await this.#staging;
    await this.#spare.close();
    await this.#sources.close();
    for (const controller of ["memory", "pids"]) {
      await rmdir(join(this.#config.cgroupRoot, controller, "weft-nix", this.#paths.cgroupGroup)).catch(() => {});
    }
  }
}

/** Runs the probe build in the runner's own store; resolves to the system nix builds for, or why it cannot. */
async function probe(
  config: NixConfig,
  paths: NixPaths,
): Promise<{ system: string; develop: boolean } | { unavailable: string }> {
  try {
    await exec("nix", ["--version"]);
    await exec("unshare", ["--version"]);
  } catch {
    return { unavailable: "nix (Debian's nix-bin) and unshare must be on PATH" };
  }
  const cgroups = await cgroupsUsable(config.cgroupRoot);
  if (cgroups) return { unavailable: cgroups };
  try {
    await access("/nix");
  } catch {
    return {
      unavailable: "/nix does not exist to mount the runner's store on: create it (sudo mkdir -m 0755 /nix); " +
        "Debian's nix-bin does not",
    };
  }
  const once = async (argv: string[]) => {
    const lines: string[] = [];
    const { code, stdout } = await runNix({
      argv,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: paths.runsDir, NIX_CONF_DIR: paths.confDir },
      cwd: paths.runsDir,
      storeRoot: paths.storeRoot,
      stdout: "keep",
      onLine: (_, t) => lines.push(t),
    });
    return { code, stdout: stdout.trim(), said: lines.slice(-3).join(" / ") };
  };
  const built = await once(["nix", "build", "--no-link", "--impure", "--expr", PROBE]);
  if (built.code !== 0) return { unavailable: `a sandboxed probe build failed: ${built.said}` };
  const system = await once(["nix", "eval", "--raw", "--impure", "--expr", "builtins.currentSystem"]);
  const develop = await exec("bwrap", ["--version"]).then(() => true, () => false);
  return { system: system.stdout, develop };
}

export const nixPlugin: RunnerPlugin<NixConfig> = {
  kind: "nix",
  description:
    "Nix builds (flakes and .nix files) and dev-shell commands, sandboxed and offline; needs nix-bin (dev shells also bwrap)",
  parseConfig: parseNixConfig,
  async create(config: NixConfig, host: RunnerHost) {
    if (!host.stateDir) return { unavailable: "nix runs need a state directory (not in a browser)" };
    const paths = nixPaths(config, host.stateDir);
    await mkdir(join(paths.storeRoot, "store"), { recursive: true });
    await mkdir(paths.runsDir, { recursive: true });
    await writeNixConf(paths.confDir);
    const probed = await probe(config, paths);
    if ("unavailable" in probed) return probed;
    const stale = await clearStaleCgroups(config.cgroupRoot, paths.cgroupGroup);
    if (stale > 0) host.log.warn("removed the cgroups of runs a previous start left behind", { runs: stale });
    host.log.info("nix runner ready", { ...probed, store: paths.storeRoot });
    const sourcesDir = await sourceCacheDir(
      config.sourceCacheDir,
      paths.cgroupGroup,
      config.maxSourceCacheBytes,
      paths.sourcesDir,
    );
    const sources = await SourceCache.open(sourcesDir, config.maxSourceCacheBytes);
    return new NixRunner(config, paths, probed, sources, host.log);
  },
};
