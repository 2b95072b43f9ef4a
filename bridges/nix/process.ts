/**
 * One nix command of a run, started so that everything it does is bounded:
 * it is spawned held (peer/process/held-process.ts) in its own process group
 * and in a private mount and network namespace (the runner's own store
 * bind-mounted at /nix, only loopback), so the run can start it while it
 * still unpacks the source, then moves it into the run's cgroups and only
 * then lets it exec nix in the source's directory. It sees only the
 * environment given, and its output arrives line by line as it is written.
 */
import { writeFile } from "node:fs/promises";
import { HeldProcess, HOLD_THEN_SOURCE, startScript, WAIT_FOR_GO } from "../../peer/process/held-process.ts";

/** Longest log line passed on whole; longer ones arrive in pieces of this size. */
const MAX_LINE = 16 * 1024;

export interface NixCommand {
  argv: string[];
  env: Record<string, string>;
  /** Where nix runs: it need not exist until the command is let go. */
  cwd: string;
  /** The directory bind-mounted at /nix inside the command's mount namespace. */
  storeRoot: string;
  /** Where stdout goes: streamed as log lines, or kept (bounded) for the caller to parse. */
  stdout: "log" | "keep";
  onLine(stream: "stdout" | "stderr", text: string): void;
}

export interface NixProcess {
  /** Exit code (null when killed) and the kept stdout. */
  readonly done: Promise<{ code: number | null; stdout: string }>;
  /**
   * Moves the held command into the run's cgroups (`cgroup.procs` files). If it died meanwhile (its namespace or
   * mount failed), `done` says how; a move that failed while it lives kills it, and its log says why.
   */
  confine(cgroupProcs: readonly string[]): Promise<void>;
  /** Lets it exec nix (after confine). */
  release(): void;
  /** SIGKILL to the whole process group (the cgroup takes care of anything that left it). */
  kill(): void;
}

/** A private mount+network namespace where the runner's store is /nix; held there until let go into the source. */
const WRAPPER = 'exec unshare --mount --net sh -c \'mount --bind "$WEFT_NIX_ROOT" /nix || exit 125; ' +
  `${WAIT_FOR_GO}; cd "$WEFT_CWD" || exit 125; exec "$@" </dev/null' sh "$@"`;

/**
 * A spare's hold: the same namespaces and store, made before its run is known; let go with the path of a start script
 * (writeStartScript) that goes into the run's source and execs its command.
 */
const SPARE_WRAPPER = `exec unshare --mount --net sh -c 'mount --bind "$WEFT_NIX_ROOT" /nix || exit 125; ` +
  `${HOLD_THEN_SOURCE}' sh`; // HOLD_THEN_SOURCE holds no single quote

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

/**
 * A run's first nix process made before the run is known (after the previous run ended), in the namespaces with
 * `storeRoot` at /nix and with only `env` (PATH, NIX_CONF_DIR): the runner moves it into cgroups of its own, and a
 * run takes it (startNix's `spare`) so that neither the fork nor a cgroup move is on the run's path.
 */
export function startSpare(env: Record<string, string>, storeRoot: string): HeldProcess {
  const held = new HeldProcess("sh", "", [], {
    script: SPARE_WRAPPER,
    env: { ...env, WEFT_NIX_ROOT: storeRoot },
    cwd: "/",
    detached: true,
  });
  held.child.once("error", () => {}); // a spawn that failed: confine() says so, and the spare is not used
  return held;
}

/**
 * Writes the start script a spare taken for `cmd` is let go with: into `cmd.cwd`, `cmd.env` exported (the spare
 * was started with PATH and NIX_CONF_DIR only), nix exec'd. Must be written before the process is released.
 */
export async function writeStartScript(path: string, cmd: NixCommand): Promise<void> {
  const script = startScript(cmd.argv[0], cmd.argv.slice(1), {}, { cwd: cmd.cwd, env: cmd.env });
  await writeFile(path, script, { mode: 0o400, flag: "wx" });
}

/**
 * Starts `cmd` held: nothing of nix runs until confine() and release(). With `spare` (startSpare, already confined),
 * that process is the command's, let go with the start script at `spare.script` (writeStartScript).
 */
export function startNix(
  cmd: NixCommand,
  spare?: { held: HeldProcess; script: string },
  maxKeptBytes = 4 * 1024 * 1024,
): NixProcess {
  const held = spare?.held ?? new HeldProcess("sh", cmd.argv[0], cmd.argv.slice(1), {
    script: WRAPPER,
    env: { ...cmd.env, WEFT_NIX_ROOT: cmd.storeRoot, WEFT_CWD: cmd.cwd },
    cwd: "/",
    detached: true,
  });
  const child = held.child;
  const err = lines((t) => cmd.onLine("stderr", t));
  const out = lines((t) => cmd.onLine("stdout", t));
  const kept: Buffer[] = [];
  let keptBytes = 0;
  child.stderr!.on("data", (c: Buffer) => err.push(c));
  child.stdout!.on("data", (c: Buffer) => {
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
    async confine(cgroupProcs) {
      try {
        await held.confine(cgroupProcs);
      } catch (e) {
        if (held.exited) return;
        held.kill();
        cmd.onLine("stderr", `could not put nix under the run's limits: ${(e as Error).message}`);
      }
    },
    release: () => held.release(spare?.script),
    kill: () => held.kill(),
  };
}

/** Runs `cmd` to its end outside any run's cgroups (the runner's probe, a store collection). */
export function runNix(cmd: NixCommand): Promise<{ code: number | null; stdout: string }> {
  const p = startNix(cmd);
  p.release();
  return p.done;
}
