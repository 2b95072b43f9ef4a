/**
 * Killing a command started detached (`detached: true`: it leads a process
 * group of its own), with what it started in turn: git's pack-objects,
 * index-pack, a shell's children. Shared by the peer's direct git children
 * and the process spawner on both sides of its IPC channel.
 */
import type { ChildProcess } from "node:child_process";

/** SIGKILL the process group led by `pid`; false if there is none left (it and all it started are gone). */
export function killGroup(pid: number): boolean {
  try {
    process.kill(-pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** Kill `child` and its process group, if it still runs; the child alone if its group cannot be signalled. */
export function killChildGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (!killGroup(child.pid)) child.kill("SIGKILL");
}
