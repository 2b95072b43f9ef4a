/**
 * The bubblewrap backend: the job runs in the image's unpacked rootfs bound
 * read-only as /, with every namespace unshared (only `lo` unless the job may
 * use the network), no capabilities, a fresh session, and death with its
 * parent. Its inputs are bound read-only, its outputs (and source, if any)
 * writable, /tmp and /run are private tmpfs. Memory, CPU and process count
 * are bounded by the job's cgroup v1 groups, and file size, open files and
 * core dumps by rlimits: the run puts its held first process under both
 * before it may exec bwrap (run.ts).
 */
import type { ContainerConfig } from "./config.ts";
import { type IsolationBackend, jobEnv, type JobPlan, PORTS_DIR, type Sandbox } from "./backend.ts";
import { JobCgroup } from "./cgroup.ts";
import type { ImageCache } from "./image-cache.ts";
import type { ContentStore } from "#protocol/runner";
import { HeldProcess, HOLD_THEN_SOURCE } from "../../peer/process/held-process.ts";
import { SpareSlot } from "../../peer/process/spare-slot.ts";

export function bwrapArgs(rootfs: string, plan: JobPlan, cwd: string, env: [string, string][]): string[] {
  return [
    "--unshare-all",
    ...(plan.network ? ["--share-net", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"] : []),
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--hostname",
    "weft",
    "--ro-bind",
    rootfs,
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/var/tmp",
    ...(plan.ports ? ["--bind", plan.ports, PORTS_DIR] : []),
    "--ro-bind",
    plan.inputs,
    "/inputs",
    "--bind",
    plan.outputs,
    "/outputs",
    ...(plan.src ? ["--bind", plan.src, "/src"] : []),
    "--chdir",
    cwd,
    "--clearenv",
    ...env.flatMap(([k, v]) => ["--setenv", k, v]),
    "--",
  ];
}

/** A job's first process started before the job is known, held, already in cgroups of its own (all but memory). */
interface Spare {
  held: HeldProcess;
  cgroup: JobCgroup;
}

export class BwrapBackend implements IsolationBackend {
  readonly name = "bwrap" as const;
  readonly #images: ImageCache;
  readonly #config: ContainerConfig;
  /**
   * The next job's first process, made while no job waits for it (after a run ends): the spawn and, above all, the
   * cgroup moves — each move a kernel-wide synchronisation in cgroup v1, 1 to 25 ms here — leave the path to a job's
   * first line. One at a time; a job that finds none makes its own as before.
   */
  readonly #spare = new SpareSlot<Spare>(async () => {
    const cgroup = await JobCgroup.create(this.#config.cgroupParent, `spare-${crypto.randomUUID()}`, {
      cpus: this.#config.cpus,
      pids: this.#config.pids,
    });
    const held = new HeldProcess("weft-job", "bwrap", [], { script: HOLD_THEN_SOURCE, env: {} });
    held.child.once("error", () => {}); // a spawn that failed: confine() below says so
    try {
      await held.confine(cgroup.procsFiles);
      return { held, cgroup };
    } catch {
      held.kill();
      await cgroup.destroy();
      return undefined;
    }
  });

  constructor(images: ImageCache, config: ContainerConfig) {
    this.#images = images;
    this.#config = config;
  }

  async prepare(plan: JobPlan, store: ContentStore): Promise<Sandbox> {
    const image = await this.#images.get(plan.image, store);
    const argv = plan.argv.length > 0 ? plan.argv : [...image.config.entrypoint, ...image.config.cmd];
    if (argv.length === 0) {
      throw new Error(`the spec gives no command and image ${plan.image} has no entrypoint or command`);
    }
    const cwd = plan.src ? "/src" : image.config.workingDir;
    const spare = await this.#spare.take((s) => s.cgroup.limitMemory(plan.memoryMb));
    const cgroup = spare?.cgroup ?? await JobCgroup.create(this.#config.cgroupParent, plan.id, {
      memoryMb: plan.memoryMb,
      cpus: this.#config.cpus,
      pids: this.#config.pids,
    });
    let disposed: Promise<void> | undefined;
    return {
      command: "bwrap",
      args: [...bwrapArgs(image.rootfs, plan, cwd, jobEnv(image.config.env, plan)), ...argv],
      cgroupProcs: spare ? [] : cgroup.procsFiles,
      ...(spare ? { held: spare.held } : {}),
      rlimits: { fsize: plan.fileBytes, nofile: 1024, core: 0 },
      signal: (signal) => cgroup.signal(signal),
      async limitsHit() {
        return { memory: await cgroup.oomKilled(), pids: await cgroup.pidsExhausted() };
      },
      // Once a job is over, the next one's first process is made.
      dispose: () => disposed ??= cgroup.destroy().finally(() => this.#spare.replenish()),
    };
  }

  close(): Promise<void> {
    return this.#spare.close();
  }
}
