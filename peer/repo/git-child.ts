/**
 * System git as a child of the peer for one transfer: started without a
 * shell in its own process group (so what git starts in turn — pack-objects,
 * index-pack, a transport helper — is stopped with it), with a config that
 * ignores the user's and the system's, and the tail of its stderr kept
 * (bounded) to say why it failed. A process that uses a spawner
 * (peer/process/spawner.ts: the daemon) starts git through it, so the
 * peer's own process is not forked; others spawn git directly.
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { sharedSpawner, SpawnerUnavailableError } from "../process/spawner.ts";
import { killChildGroup } from "../process/kill-group.ts";

/** How much of git's stderr is kept for an error message. */
const STDERR_TAIL = 4096;

export interface GitChild {
  /** Undefined if git could not be started (`exited` is then -1 and `stderr()` says why). */
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves with git's exit code (null if it was killed) once it and its pipes are closed. */
  readonly exited: Promise<number | null>;
  /** The last few KiB git wrote to stderr. */
  stderr(): string;
  /** Kill git and everything it started. */
  kill(): void;
}

/** An environment for git that reads no user or system config and never prompts. */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SYSTEMROOT"]) {
    const value = process.env[k];
    if (value !== undefined) env[k] = value;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    ...extra,
  };
}

export interface StartGitOptions {
  env?: Record<string, string>;
  cwd?: string;
}

/** Start git with `args`: through this process's spawner if it has one (and it can be had), else directly. */
export async function startGit(args: string[], options: StartGitOptions = {}): Promise<GitChild> {
  const spawner = sharedSpawner();
  if (spawner) {
    try {
      return await spawner.spawn("git", args, { env: gitEnv(options.env), cwd: options.cwd, stderrTail: STDERR_TAIL });
    } catch (e) {
      if (!(e instanceof SpawnerUnavailableError)) throw e;
    }
  }
  return spawnGit(args, options);
}

/** Fork this process into git. */
function spawnGit(args: string[], options: StartGitOptions): GitChild {
  const child = spawn("git", args, {
    cwd: options.cwd,
    env: gitEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let tail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL);
  });
  // A write to a git that already died surfaces as its exit, not as an unhandled error.
  child.stdin!.on("error", () => {});
  child.stdout!.on("error", () => {});
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
    child.on("error", (e) => {
      tail += `\n${e.message}`;
      resolve(-1);
    });
  });
  let killed = false;
  return {
    pid: child.pid,
    stdin: child.stdin!,
    stdout: child.stdout!,
    exited,
    stderr: () => tail.trim(),
    kill() {
      if (killed) return;
      killed = true;
      killChildGroup(child);
    },
  };
}
