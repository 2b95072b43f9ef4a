/**
 * A run's limits through cgroup v1 directories (this machine's memory and
 * pids controllers are v1; v2 has none and there is no systemd): one
 * directory per run under each controller, the limit written before the
 * first process joins, every process killed and the directories removed at
 * the end. Processes join by writing their own pid (see process.ts), so
 * nothing the run forks escapes the limit. A runner's runs live under a
 * group of its own (`weft-nix/<group>/<run>`), so at its start it can clear
 * what a crashed predecessor with the same state left, and nothing of
 * another runner's. A spare's groups (`spare-<uuid>`) hold only a held shell
 * until a run adopts them: its memory limit written and the directories
 * renamed to the run's id before the run may start.
 */
import { access, constants, mkdir, readdir, readFile, rename, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface RunCgroup {
  /** The `cgroup.procs` files a process writes its pid into to join. */
  readonly procs: string[];
  /**
   * For a spare's groups, made before their run (and so its limit and id) was known: writes the memory limit and
   * renames the directories to the run's id, as if made for it (a cgroup v1 directory renames in place, members kept).
   */
  adopt(id: string, memoryBytes: number): Promise<void>;
  /** Whether the kernel killed a process of this run for passing its memory limit. */
  oomKilled(): Promise<boolean>;
  /** Kills every process still in the run's cgroups and removes them; idempotent. */
  destroy(): Promise<void>;
}

/** Whether root may make cgroups here: the v1 memory and pids controllers exist and are writable. */
export async function cgroupsUsable(root: string): Promise<string | undefined> {
  for (const controller of ["memory", "pids"]) {
    try {
      await access(join(root, controller, "cgroup.procs"), constants.W_OK);
    } catch {
      return `the cgroup v1 ${controller} controller is not writable under ${root}; nix runs need it for their limits`;
    }
  }
  return undefined;
}

async function pidsIn(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  return text.split("\n").filter((l) => l !== "").map(Number);
}

const CONTROLLERS = ["memory", "pids"] as const;

/** Kills what is left in a run's cgroup directories and removes them; rounds until empty (pids.max bounds them). */
async function clear(dirs: readonly string[]): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    const left = [...new Set((await Promise.all(dirs.map(pidsIn))).flat())];
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await new Promise((r) => setImmediate(r));
  }
  // A killed process leaves its cgroup only once reaped; rmdir fails with EBUSY until then.
  for (const dir of dirs) {
    for (let round = 0; round < 1000; round++) {
      try {
        await rmdir(dir);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") break;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
}

/** Removes the run cgroups a previous runner of this `group` left (a crash skips their removal). */
export async function clearStaleCgroups(root: string, group: string): Promise<number> {
  const stale = new Set<string>();
  for (const controller of CONTROLLERS) {
    const dir = join(root, controller, "weft-nix", group);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) stale.add(e.name);
  }
  for (const id of stale) await clear(CONTROLLERS.map((c) => join(root, c, "weft-nix", group, id)));
  return stale.size;
}

/**
 * Makes `<root>/{memory,pids}/weft-nix/<group>/<id>` with the given limits; without `memoryBytes` (a spare's groups)
 * the memory limit is written later by adopt(), before its run may start.
 */
export async function createRunCgroup(
  root: string,
  group: string,
  id: string,
  limits: { memoryBytes?: number; maxProcesses: number },
): Promise<RunCgroup> {
  let memory = join(root, "memory", "weft-nix", group, id);
  let pids = join(root, "pids", "weft-nix", group, id);
  await mkdir(memory, { recursive: true });
  await mkdir(pids, { recursive: true });
  const limitMemory = async (bytes: number) => {
    await writeFile(join(memory, "memory.limit_in_bytes"), String(bytes));
    // With swap accounting the limit covers swap too, so a run cannot page its way past it.
    await writeFile(join(memory, "memory.memsw.limit_in_bytes"), String(bytes)).catch(() => {});
  };
  if (limits.memoryBytes !== undefined) await limitMemory(limits.memoryBytes);
  await writeFile(join(pids, "pids.max"), String(limits.maxProcesses));
  let destroyed: Promise<void> | undefined;
  return {
    get procs() {
      return [join(memory, "cgroup.procs"), join(pids, "cgroup.procs")];
    },
    async adopt(run, memoryBytes) {
      await limitMemory(memoryBytes);
      const [toMemory, toPids] = ["memory", "pids"].map((c) => join(root, c, "weft-nix", group, run));
      await rename(memory, toMemory);
      memory = toMemory;
      await rename(pids, toPids);
      pids = toPids;
    },
    async oomKilled() {
      const control = await readFile(join(memory, "memory.oom_control"), "utf8").catch(() => "");
      const kills = /oom_kill (\d+)/.exec(control);
      if (kills) return Number(kills[1]) > 0;
      return Number(await readFile(join(memory, "memory.failcnt"), "utf8").catch(() => "0")) > 0;
    },
    destroy: () => destroyed ??= clear([memory, pids]),
  };
}
