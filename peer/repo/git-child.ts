/**
 * System git as a child of the peer for one transfer: started without a
 * shell in its own process group (so what git starts in turn — pack-objects,
 * index-pack, a transport helper — is stopped with it), with a config that
 * ignores the user's and the system's, and the tail of its stderr kept
 * (bounded) to say why it failed.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** How much of git's stderr is kept for an error message. */
const STDERR_TAIL = 4096;

export interface GitChild {
  readonly process: ChildProcess;
  /** Resolves with git's exit code (null if it was killed) once it and its pipes are closed. */
  readonly exited: Promise<number | null>;
  /** The last few KiB git wrote to stderr. */
  stderr(): string;
  /** Kill git and everything it started. */
  kill(): void;
}

/** An environment for git that reads no user or system config and never prompts. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SYSTEMROOT"]) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
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

export function startGit(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): GitChild {
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
    process: child,
    exited,
    stderr: () => tail.trim(),
    kill() {
      if (killed || child.pid === undefined || child.exitCode !== null) return;
      killed = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    },
  };
}
