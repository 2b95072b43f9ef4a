/**
 * A job's first process, started before the job may run and held there: it
 * is spawned (puts itself under the run's rlimits, and may enter its own
 * namespaces) while the run still writes its source and inputs, is moved
 * into the run's cgroups from here, and only then let go to exec the job.
 * The spawn and the cgroup moves (each a kernel-wide synchronisation in
 * cgroup v1, milliseconds on a busy machine) so leave the path to the job's
 * first line, while the limits still hold from the job's first instruction:
 * nothing of the job runs before "go" arrives on its stdin, and "go" is
 * written only after every move took. A process never let go is killed by
 * its owner (`kill`), or exits by itself when this process dies (its stdin
 * closes). A spare (HOLD_THEN_SOURCE) is started and moved before its job
 * is even known, and let go with the path of a start script that sets the
 * job's rlimits and execs its command (startScript).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";

/** Shell that waits for the word "go" on stdin and exits 125 on anything else (end of file included). */
export const WAIT_FOR_GO = 'read -r go && [ "$go" = go ] || exit 125';

/** The plain hold: wait for "go", then exec the arguments with stdin from /dev/null. */
export const HOLD_THEN_EXEC = `${WAIT_FOR_GO}; exec "$@" </dev/null`;

/**
 * The hold of a spare, started before its job is known: wait for the path of a start script (startScript) on stdin
 * and run it in this shell; exit 125 on anything else (end of file included). release(path) lets it go.
 */
export const HOLD_THEN_SOURCE = 'IFS= read -r start && [ -f "$start" ] || exit 125; . "$start"';

/** One argument for sh, single-quoted (a quote inside closed, escaped and reopened); NUL cannot be passed to exec. */
function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new RangeError("an argument cannot hold a NUL byte");
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Names a start script may export: a shell variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What a spare held with HOLD_THEN_SOURCE runs once let go: `rlimits` set on itself, then, in `at.cwd` (exit 125 if
 * it cannot go there) with `at.env` exported beside what the spare was started with, `command` exec'd.
 */
export function startScript(
  command: string,
  args: readonly string[],
  rlimits: RLimits = {},
  at: { cwd?: string; env?: Record<string, string> } = {},
): string {
  const exports = Object.entries(at.env ?? {}).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new RangeError(`${JSON.stringify(name)} is not an environment variable name`);
    return `export ${shellQuote(`${name}=${value}`)}; `;
  }).join("");
  const cd = at.cwd === undefined ? "" : `cd ${shellQuote(at.cwd)} || exit 125; `;
  return `${ulimits(rlimits)}${cd}${exports}exec ${[command, ...args].map(shellQuote).join(" ")} </dev/null\n`;
}

/**
 * Resource limits the held shell sets on itself (soft and hard) before it waits, inherited by everything the job
 * starts. The shell counts file size in 512-byte blocks, so `fsize` is rounded up to one: a runner that needs an
 * exact bound on what a job writes enforces it itself (the container runner's output watch does).
 */
export interface RLimits {
  /** Largest file it may write, in bytes (RLIMIT_FSIZE). */
  fsize?: number;
  nofile?: number;
  core?: number;
}

/** `ulimit` commands for `limits`, failing the hold (exit 125) if one cannot be set. */
function ulimits(limits: RLimits): string {
  const set: string[] = [];
  const add = (flag: string, value: number | undefined) => {
    if (value === undefined) return;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`rlimit ${flag} must be a whole number`);
    set.push(`ulimit ${flag} ${value}`);
  };
  add("-f", limits.fsize === undefined ? undefined : Math.ceil(limits.fsize / 512));
  add("-n", limits.nofile);
  add("-c", limits.core);
  return set.length === 0 ? "" : `{ ${set.join(" && ")}; } || exit 125; `;
}

export interface HeldOptions {
  /** The shell script run by `sh -c`: must run WAIT_FOR_GO before anything of the job. Default HOLD_THEN_EXEC. */
  script?: string;
  rlimits?: RLimits;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Its own process group, so kill() reaches what it started. */
  detached?: boolean;
}

export class HeldProcess {
  /** Its stdout and stderr are the job's; its stdin is the hold (the job gets /dev/null). */
  readonly child: ChildProcess;
  readonly #detached: boolean;
  #released = false;

  /** Spawns `sh -c <script> <name> <command> <args…>`, held until release(). */
  constructor(name: string, command: string, args: readonly string[], options: HeldOptions) {
    this.#detached = options.detached === true;
    const script = ulimits(options.rlimits ?? {}) + (options.script ?? HOLD_THEN_EXEC);
    this.child = spawn("/bin/sh", ["-c", script, name, command, ...args], {
      env: options.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      detached: this.#detached,
      stdio: ["pipe", "pipe", "pipe"],
    });
    // A hold that died before "go" (a failed setup step) closes its stdin: that is its exit to report, not a throw.
    this.child.stdin!.on("error", () => {});
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * Moves the held process into every cgroup (`cgroup.procs` files); it stays held. Throws if a move failed while it
   * is alive; the caller then kills it.
   */
  async confine(cgroupProcs: readonly string[]): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error("the job's process did not start");
    // One at a time: the kernel serialises moves anyway, and a failed one should stop the rest.
    for (const procs of cgroupProcs) await writeFile(procs, String(pid));
  }

  /** Lets the job run (once); a spare (HOLD_THEN_SOURCE) is given the path of its start script instead. */
  release(startScript?: string): void {
    if (this.#released) return;
    this.#released = true;
    this.child.stdin!.end(`${startScript ?? "go"}\n`);
  }

  /** SIGKILL to it (and its process group when detached); nothing if it is gone. */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(this.#detached ? -pid : pid, "SIGKILL");
    } catch { /* already gone */ }
  }
}
