/**
 * A job's cgroup v1 groups (memory, cpu, pids): the limits are written
 * before the job starts, the job's first process puts itself in them before
 * it execs anything (so nothing escapes by forking early), and at the end
 * every process still in them is killed and the groups removed. cgroup v2
 * has no controllers on the machines this targets and there is no systemd,
 * so v1 directories written by the runner are the one way to bound a tree.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["memory", "cpu", "pids"] as const;
const CFS_PERIOD_US = 100_000;

export interface JobLimits {
  memoryMb: number;
  cpus: number;
  pids: number;
}

/** Whether this machine has writable cgroup v1 memory, cpu and pids controllers under `parent`. */
export async function cgroupsUsable(parent: string): Promise<string | undefined> {
  for (const c of CONTROLLERS) {
    const dir = join(ROOT, c, parent);
    try {
      await mkdir(dir, { recursive: true });
      const probe = join(dir, `probe-${process.pid}`);
      await mkdir(probe);
      await rmdir(probe);
    } catch (e) {
      return `the cgroup v1 ${c} controller is not writable at ${dir} (${(e as Error).message})`;
    }
  }
  return undefined;
}

/**
 * Removes a runner's parent groups once it is done with them: only the empty ones (rmdir refuses a group with
 * processes or child groups in it, so a parent another runner still uses stays; its next job makes it again).
 */
export async function removeParentIfEmpty(parent: string): Promise<void> {
  for (const c of CONTROLLERS) await rmdir(join(ROOT, c, parent)).catch(() => {});
}

export class JobCgroup {
  readonly dirs: Record<(typeof CONTROLLERS)[number], string>;

  private constructor(parent: string, id: string) {
    this.dirs = {
      memory: join(ROOT, "memory", parent, id),
      cpu: join(ROOT, "cpu", parent, id),
      pids: join(ROOT, "pids", parent, id),
    };
  }

  /**
   * Make the groups and write their limits. Without `memoryMb` (a spare's groups, made before its job is known) the
   * memory limit is left for limitMemory().
   */
  static async create(
    parent: string,
    id: string,
    limits: Omit<JobLimits, "memoryMb"> & { memoryMb?: number },
  ): Promise<JobCgroup> {
    const g = new JobCgroup(parent, id);
    // The three controllers are independent: each is made and limited alongside the others (a job's start waits).
    const memoryMb = limits.memoryMb;
    await Promise.all([
      mkdir(g.dirs.memory, { recursive: true }).then(() =>
        memoryMb === undefined ? undefined : g.limitMemory(memoryMb)
      ),
      mkdir(g.dirs.cpu, { recursive: true }).then(async () => {
        await writeFile(join(g.dirs.cpu, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
        const quota = Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US));
        await writeFile(join(g.dirs.cpu, "cpu.cfs_quota_us"), String(quota));
      }),
      mkdir(g.dirs.pids, { recursive: true }).then(() => writeFile(join(g.dirs.pids, "pids.max"), String(limits.pids))),
    ]);
    return g;
  }

  /** Bound the job's memory (from unlimited: the limit first, then memory and swap, which may not be below it). */
  async limitMemory(memoryMb: number): Promise<void> {
    const bytes = String(memoryMb * 1024 * 1024);
    await writeFile(join(this.dirs.memory, "memory.limit_in_bytes"), bytes);
    // Swap counts too where the kernel accounts it, so a job cannot page its way past the limit.
    await writeFile(join(this.dirs.memory, "memory.memsw.limit_in_bytes"), bytes).catch(() => {});
  }

  /** The `cgroup.procs` files a process writes its pid into to join every group. */
  get procsFiles(): string[] {
    return Object.values(this.dirs).map((d) => join(d, "cgroup.procs"));
  }

  /** Whether the kernel's OOM killer killed a process of this job. */
  async oomKilled(): Promise<boolean> {
    const text = await readFile(join(this.dirs.memory, "memory.oom_control"), "utf8").catch(() => "");
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m !== null && Number(m[1]) > 0;
  }

  /** Whether the job hit its process limit (a fork bomb). */
  async pidsExhausted(): Promise<boolean> {
    const text = await readFile(join(this.dirs.pids, "pids.events"), "utf8").catch(() => "");
    const m = /^max (\d+)$/m.exec(text);
    return m !== null && Number(m[1]) > 0;
  }

  async #pids(): Promise<number[]> {
    const text = await readFile(join(this.dirs.pids, "cgroup.procs"), "utf8").catch(() => "");
    return text.split("\n").filter(Boolean).map(Number);
  }

  /** Send `signal` to every process in the job. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    for (const pid of await this.#pids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  /** Kill every process in the job until none is left (a forking job is outrun), then remove the groups. */
  async destroy(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      const pids = await this.#pids();
      if (pids.length === 0) break;
      await this.signal("SIGKILL");
      await new Promise((r) => setImmediate(r));
    }
    for (const dir of Object.values(this.dirs)) await removeTree(dir);
  }
}

/** Remove a cgroup directory and the groups made under it (podman's container groups), deepest first. */
async function removeTree(dir: string): Promise<void> {
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const c of children) if (c.isDirectory()) await removeTree(join(dir, c.name));
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || attempt === 99) {
        throw new WeftError(
          "RunnerError",
          "container/cgroup",
          `could not remove the job's cgroup ${dir} (${
            (e as Error).message
          }); remove it by hand once its processes are gone`,
        );
      }
      // A killed process leaves its group a moment after it dies.
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
