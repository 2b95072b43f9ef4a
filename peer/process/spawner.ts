/**
 * Starting commands without forking the peer. `child_process.spawn` forks
 * the calling process: the kernel copies its page tables while the event
 * loop waits (about 45 ms for each GB the peer holds, measured on Node 24:
 * 9 ms at 250 MB, 78 ms at 2 GB), and leaves its memory copy-on-write, so
 * each page the peer writes next faults once. A peer serving a git fetch
 * starts two git commands, the fetching peer four.
 *
 * A ProcessSpawner starts a small helper process once (spawner-helper.ts)
 * and has it fork and exec commands instead. A command's stdin and stdout
 * are Unix sockets this process connects to the helper, so its bytes do
 * not pass through the helper; its stderr's tail comes back with its exit.
 * If the helper dies it is started again at the next spawn; one that
 * cannot start makes `spawn` throw SpawnerUnavailableError for a minute
 * (callers then spawn directly, as before).
 *
 * The helper dies with this process (its IPC channel closes) and kills
 * the commands still running; it does not keep this process alive.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { killGroup } from "./kill-group.ts";
import { type HelperMessage, type KillRequest, type SpawnRequest, TOKEN_BYTES } from "./spawner-messages.ts";

const HELPER = fileURLToPath(new URL("./spawner-helper.ts", import.meta.url));
/** How long the helper has to start listening, in ms. */
const START_MS = 10_000;
/** After the helper failed to start, how long spawns are refused before it is tried again, in ms. */
const RETRY_MS = 60_000;
/** How much of a command's stderr is kept by default (its last characters). */
const DEFAULT_STDERR_TAIL = 4096;

/** The helper is not running and could not be started: spawn the command some other way. */
export class SpawnerUnavailableError extends Error {
  override name = "SpawnerUnavailableError";
}

export interface SpawnOptions {
  /** The command's whole environment. */
  env: Record<string, string>;
  cwd?: string;
  /** How many of the last characters of its stderr to keep. Default 4096. */
  stderrTail?: number;
}

/** A command started by the spawner, in its own process group. */
export interface SpawnedCommand {
  /** Undefined if it could not be started (`exited` is then -1 and `stderr()` says why). */
  readonly pid: number | undefined;
  readonly stdin: Socket;
  readonly stdout: Socket;
  /**
   * Its exit code (null if a signal ended it, -1 if it never started or the helper died), once its stdout has been
   * read to the end: output nobody reads is let flow then, as ChildProcess does.
   */
  readonly exited: Promise<number | null>;
  /** The tail of its stderr, once it has exited. */
  stderr(): string;
  /** Kill it and its process group (SIGKILL), if it still runs. */
  kill(): void;
}

interface Pending {
  spawned(pid: number): void;
  /** It did not start, or the helper went while it ran. */
  failed(message: string): void;
  exited(code: number | null, stderr: string): void;
}

/** One run of the helper process. */
class Helper {
  readonly child: ChildProcess;
  readonly path: string;
  readonly ready: Promise<void>;
  readonly #dir: string;
  readonly #pending = new Map<number, Pending>();
  /** The pids of the commands started and not yet reported exited, by request id. */
  readonly #running = new Map<number, number>();

  constructor(onGone: () => void) {
    this.#dir = mkdtempSync(join(tmpdir(), "weft-spawn-")); // 0700: no other user can reach the socket
    this.path = join(this.#dir, "s");
    this.child = fork(HELPER, [this.path], {
      execArgv: [],
      serialization: "json",
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    this.child.unref();
    let listening!: () => void, failed!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      listening = resolve;
      failed = reject;
    });
    this.ready.catch(() => {});
    const timer = setTimeout(() => {
      failed(new Error(`it did not start within ${START_MS} ms`));
      this.child.kill("SIGKILL");
    }, START_MS);
    this.child.on("message", (message: HelperMessage) => {
      if (message.op === "listening") {
        clearTimeout(timer);
        this.#unrefWhenIdle();
        return listening();
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      if (message.op === "spawned") {
        this.#running.set(message.id, message.pid);
        return pending.spawned(message.pid);
      }
      this.#pending.delete(message.id);
      this.#running.delete(message.id);
      this.#unrefWhenIdle();
      if (message.op === "failed") pending.failed(message.message);
      else pending.exited(message.code, message.stderr);
    });
    // A helper that could not be started; a failed send to one that is going ends in "exit", handled there.
    this.child.on("error", (e) => failed(e));
    this.child.on("exit", (code, signal) => {
      clearTimeout(timer);
      failed(new Error(`it exited (${signal ?? code}) before it listened`));
      rmSync(this.#dir, { recursive: true, force: true });
      // Its commands are orphans whose exit no one would report: they go too, with their process groups.
      for (const pid of this.#running.values()) killGroup(pid);
      this.#running.clear();
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.failed(`the process spawner exited (${signal ?? code})`);
      onGone();
    });
  }

  /** The IPC channel holds this process open only while the helper starts or a command's exit is to come. */
  #unrefWhenIdle(): void {
    if (this.#pending.size === 0) this.child.channel?.unref();
  }

  send(request: SpawnRequest, pending: Pending): void {
    if (!this.child.connected) return pending.failed("the process spawner exited");
    this.#pending.set(request.id, pending);
    this.child.channel?.ref();
    this.child.send(request);
  }

  kill(id: number): void {
    if (this.child.connected) this.child.send({ op: "kill", id } satisfies KillRequest);
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    else this.child.kill("SIGKILL");
  }
}

/** Connect to the helper's socket and send `token` first. */
function openSocket(path: string, token: Uint8Array): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => {
      socket.off("error", reject);
      socket.write(token);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

export class ProcessSpawner {
  #helper: Helper | undefined;
  #unavailableUntil = 0;
  #nextId = 0;
  #stopped = false;

  /** The helper's pid while it runs: its reaped commands' CPU is counted in its /proc stat. */
  get pid(): number | undefined {
    return this.#helper?.child.pid;
  }

  /** Start the helper now, while this process is small, rather than at the first spawn. */
  async warm(): Promise<void> {
    await this.#running();
  }

  async #running(): Promise<Helper> {
    if (this.#stopped) throw new SpawnerUnavailableError("the process spawner was stopped");
    if (Date.now() < this.#unavailableUntil) {
      throw new SpawnerUnavailableError("the process spawner could not start a moment ago");
    }
    let helper = this.#helper;
    try {
      helper ??= this.#helper = new Helper(() => {
        if (this.#helper === helper) this.#helper = undefined;
      });
      await helper.ready;
    } catch (e) {
      if (helper && this.#helper === helper) {
        this.#helper = undefined;
        helper.stop();
      }
      this.#unavailableUntil = Date.now() + RETRY_MS;
      throw new SpawnerUnavailableError(`the process spawner could not start: ${(e as Error).message}`, { cause: e });
    }
    return helper;
  }

  /** Start `command` with `args` through the helper. Throws SpawnerUnavailableError if the helper cannot be had. */
  async spawn(command: string, args: readonly string[], options: SpawnOptions): Promise<SpawnedCommand> {
    const helper = await this.#running();
    const id = this.#nextId++;
    const tokens = [randomBytes(TOKEN_BYTES), randomBytes(TOKEN_BYTES)];
    let pid: number | undefined, tail = "", lost = false;
    let settle!: (started: boolean) => void, exit!: (code: number | null) => void;
    const started = new Promise<boolean>((resolve) => (settle = resolve));
    const exitCode = new Promise<number | null>((resolve) => (exit = resolve));
    helper.send({
      op: "spawn",
      id,
      command,
      args: [...args],
      env: options.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdin: tokens[0].toString("hex"),
      stdout: tokens[1].toString("hex"),
      stderrTail: options.stderrTail ?? DEFAULT_STDERR_TAIL,
    }, {
      spawned(p) {
        pid = p;
        settle(true);
      },
      failed(message) {
        tail = message;
        lost = true;
        settle(false);
        exit(-1);
      },
      exited(code, stderr) {
        tail = stderr;
        exit(code);
      },
    });
    // The request went first; the sockets follow (the helper pairs them with it in either order).
    const opened = await Promise.allSettled(tokens.map((token) => openSocket(helper.path, token)));
    const sockets = opened.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    if (sockets.length < 2) {
      for (const socket of sockets) socket.destroy();
      helper.kill(id);
      throw new SpawnerUnavailableError("could not reach the process spawner's socket");
    }
    const [stdin, stdout] = sockets;
    for (const socket of sockets) socket.on("error", () => {}); // a command that died surfaces as its exit
    const stdoutClosed = new Promise<void>((resolve) => stdout.once("close", () => resolve()));
    await started;
    void exitCode.then(() => {
      // Its sockets go with a command that never started or whose helper died (it may still hold them: this ends it).
      if (lost) {
        stdin.destroy();
        stdout.destroy();
      } else if (stdout.readable) stdout.resume();
    });
    const exited = Promise.all([exitCode, stdoutClosed]).then(([code]) => {
      stdin.destroy();
      return code;
    });
    return {
      pid,
      stdin,
      stdout,
      exited,
      stderr: () => tail.trim(),
      kill: () => helper.kill(id),
    };
  }

  /** Stop the helper (it kills the commands still running); later spawns throw SpawnerUnavailableError. */
  stop(): void {
    this.#stopped = true;
    this.#helper?.stop();
  }
}

let shared: ProcessSpawner | undefined;

/** This process's spawner, started by the first call (the daemon's, at start): what long-lived peers spawn with. */
export function useSharedSpawner(): ProcessSpawner {
  return shared ??= new ProcessSpawner();
}

/** This process's spawner if it uses one (useSharedSpawner), else undefined: spawn directly. */
export function sharedSpawner(): ProcessSpawner | undefined {
  return shared;
}
