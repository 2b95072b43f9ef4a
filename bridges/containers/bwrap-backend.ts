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

export class BwrapBackend implements IsolationBackend {
  readonly name = "bwrap" as const;
  readonly #images: ImageCache;
  readonly #config: ContainerConfig;

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
    const cgroup = await JobCgroup.create(this.#config.cgroupParent, plan.id, {
      memoryMb: plan.memoryMb,
      cpus: this.#config.cpus,
      pids: this.#config.pids,
    });
    let disposed: Promise<void> | undefined;
    return {
      command: "bwrap",
      args: [...bwrapArgs(image.rootfs, plan, cwd, jobEnv(image.config.env, plan)), ...argv],
      cgroupProcs: cgroup.procsFiles,
      rlimits: { fsize: plan.fileBytes, nofile: 1024, core: 0 },
      signal: (signal) => cgroup.signal(signal),
      async limitsHit() {
        return { memory: await cgroup.oomKilled(), pids: await cgroup.pidsExhausted() };
      },
      dispose: () => disposed ??= cgroup.destroy(),
    };
  }

  async close(): Promise<void> {}
}
