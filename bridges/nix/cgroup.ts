/**
 * A run's limits through cgroup v1 directories (this machine's memory and
 * pids controllers are v1; v2 has none and there is no systemd): one
 * directory per run under each controller, the limit written before the
 * first process joins, every process killed and the directories removed at
 * the end. Processes join by writing their own pid (see process.ts), so
 * nothing the run forks escapes the limit.
 */
import { access, constants, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface RunCgroup {
  /** The `cgroup.procs` files a process writes its pid into to join. */
  readonly procs: string[];
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

/** Makes `<root>/{memory,pids}/weft-nix/<id>` with the given limits. */
export async function createRunCgroup(
  root: string,
  id: string,
  limits: { memoryBytes: number; maxProcesses: number },
): Promise<RunCgroup> {
  const memory = join(root, "memory", "weft-nix", id);
  const pids = join(root, "pids", "weft-nix", id);
  await mkdir(memory, { recursive: true });
  await mkdir(pids, { recursive: true });
  await writeFile(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
  // With swap accounting the limit covers swap too, so a run cannot page its way past it.
  await writeFile(join(memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes)).catch(() => {});
  await writeFile(join(pids, "pids.max"), String(limits.maxProcesses));
  let destroyed: Promise<void> | undefined;
  return {
    procs: [join(memory, "cgroup.procs"), join(pids, "cgroup.procs")],
    async oomKilled() {
      const control = await readFile(join(memory, "memory.oom_control"), "utf8").catch(() => "");
      const kills = /oom_kill (\d+)/.exec(control);
      if (kills) return Number(kills[1]) > 0;
      return Number(await readFile(join(memory, "memory.failcnt"), "utf8").catch(() => "0")) > 0;
    },
    destroy: () =>
      destroyed ??= (async () => {
        // A process may fork while we kill; go round until both directories are empty (pids.max bounds the rounds).
        for (let round = 0; round < 1000; round++) {
          const left = [...new Set([...await pidsIn(memory), ...await pidsIn(pids)])];
          if (left.length === 0) break;
          for (const pid of left) {
            try {
              process.kill(pid, "SIGKILL");
            } catch { /* already gone */ }
          }
          await new Promise((r) => setImmediate(r));
        }
        // A killed process leaves its cgroup only once reaped; rmdir fails with EBUSY until then.
        for (const dir of [memory, pids]) {
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
      })(),
  };
}
