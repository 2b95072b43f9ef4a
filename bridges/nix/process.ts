/**
 * One nix command of a run, started so that everything it does is bounded:
 * it joins the run's cgroups before it execs, runs in its own process group
 * and in a private mount and network namespace (the runner's own store
 * bind-mounted at /nix, only loopback), sees only the environment given,
 * and its output arrives line by line as it is written.
 */
import { spawn } from "node:child_process";

/** Longest log line passed on whole; longer ones arrive in pieces of this size. */
const MAX_LINE = 16 * 1024;

export interface NixCommand {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** The directory bind-mounted at /nix inside the command's mount namespace. */
  storeRoot: string;
  /** `cgroup.procs` files the command joins before it execs. */
  cgroupProcs: readonly string[];
  /** Where stdout goes: streamed as log lines, or kept (bounded) for the caller to parse. */
  stdout: "log" | "keep";
  onLine(stream: "stdout" | "stderr", text: string): void;
}

export interface NixProcess {
  /** Exit code (null when killed) and the kept stdout. */
  readonly done: Promise<{ code: number | null; stdout: string }>;
  /** SIGKILL to the whole process group (the cgroup takes care of anything that left it). */
  kill(): void;
}

/** Joins the cgroups, then a private mount+network namespace where the runner's store is /nix. */
const WRAPPER = [
  'for p in $WEFT_CGROUP_PROCS; do echo $$ > "$p" || exit 125; done',
  'exec unshare --mount --net sh -c \'mount --bind "$WEFT_NIX_ROOT" /nix || exit 125; exec "$@"\' sh "$@"',
].join("\n");

function lines(onLine: (text: string) => void): { push(chunk: Buffer): void; end(): void } {
  let pending = "";
  return {
    push(chunk) {
      pending += chunk.toString("utf8");
      let nl: number;
      while ((nl = pending.indexOf("\n")) !== -1 || pending.length >= MAX_LINE) {
        const cut = nl === -1 || nl > MAX_LINE ? MAX_LINE : nl;
        onLine(pending.slice(0, cut));
        pending = pending.slice(cut + (cut === nl ? 1 : 0));
      }
    },
    end() {
      if (pending !== "") onLine(pending);
      pending = "";
    },
  };
}

export function startNix(cmd: NixCommand, maxKeptBytes = 4 * 1024 * 1024): NixProcess {
  const child = spawn("sh", ["-c", WRAPPER, "sh", ...cmd.argv], {
    cwd: cmd.cwd,
    env: { ...cmd.env, WEFT_CGROUP_PROCS: cmd.cgroupProcs.join(" "), WEFT_NIX_ROOT: cmd.storeRoot },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const err = lines((t) => cmd.onLine("stderr", t));
  const out = lines((t) => cmd.onLine("stdout", t));
  const kept: Buffer[] = [];
  let keptBytes = 0;
  child.stderr.on("data", (c: Buffer) => err.push(c));
  child.stdout.on("data", (c: Buffer) => {
    if (cmd.stdout === "log") return out.push(c);
    keptBytes += c.length;
    if (keptBytes <= maxKeptBytes) kept.push(c);
  });
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => {
    child.on("error", (e) => {
      cmd.onLine("stderr", `cannot start nix: ${e.message}`);
      resolve({ code: 127, stdout: "" });
    });
    child.on("close", (code) => {
      err.end();
      out.end();
      resolve({ code, stdout: Buffer.concat(kept).toString("utf8") });
    });
  });
  return {
    done,
    kill() {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch { /* already gone */ }
    },
  };
}
