/**
 * One container job, from spec to result: its inputs written read-only on
 * the host (and its source tree, if it names one, unpacked writable), its sandbox made by the backend, its stdout and stderr streamed
 * line by line, its wall time and output size enforced while it runs (the
 * whole process tree is killed), and how it ended turned into a status —
 * with its outputs described exactly and stored when it ran to the end.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ContentStore, RunHandle, RunResult, RunSpec } from "#protocol/runner";
import { readSource, type RunOutcome, settleRun } from "#protocol/runner";
import { messageOf } from "#protocol";
import { HeldProcess, startScript } from "../../peer/process/held-process.ts";
import { writeSourceTree } from "../../peer/source/tree.ts";
import { fetchVerified } from "../../wasm-runners/core/content.ts";
import { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import type { IsolationBackend, Sandbox } from "./backend.ts";
import { splitLines } from "./lines.ts";
import { collectOutputs, OutputWatch } from "./outputs.ts";
import { imageOf } from "./spec.ts";

/** What a caller of the container runner itself (not the mesh's scheduler) may add to a run. */
export interface RunOptions {
  /** A host directory bound at PORTS_DIR (backend.ts): the job's ports, as Unix sockets, appear in it. */
  ports?: string;
}

export interface RunContext {
  backend: IsolationBackend;
  /** Where each run's working directories are made (removed when it ends). */
  runsDir: string;
  stopGraceMs: number;
  /** The run ended (for the runner's bookkeeping). */
  ended(run: ContainerRun): void;
}

type Ending =
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "timeout" }
  | { kind: "output-limit"; reason: string }
  | { kind: "stopped"; reason: string }
  | { kind: "error"; reason: string };

export class ContainerRun implements RunHandle {
  readonly id: string = crypto.randomUUID();
  readonly logs: LogChannel = new LogChannel();
  readonly done: Promise<RunResult>;
  readonly #spec: RunSpec;
  readonly #store: ContentStore;
  readonly #ctx: RunContext;
  readonly #options: RunOptions;
  #logBytes = 0;
  #stopReason?: string;
  #end?: (e: Ending) => void;
  /** Resolves once the job may run: at once, or at go() for a run prepared while its claim is made durable. */
  readonly #mayRun: Promise<void>;
  #go!: () => void;

  /** With `held`, everything is made ready but the job runs only after go() (Runner.prepare). */
  constructor(spec: RunSpec, store: ContentStore, ctx: RunContext, options: RunOptions = {}, held = false) {
    this.#spec = spec;
    this.#store = store;
    this.#ctx = ctx;
    this.#options = options;
    this.#mayRun = new Promise((resolve) => this.#go = resolve);
    if (!held) this.#go();
    const outcome = this.#run();
    outcome.catch(() => {}); // settled below, once the run may start
    // A prepared run starts when it is let go, not when its claim began.
    this.done = this.#mayRun.then(() => settleRun(outcome, Date.now(), this.logs)).then((result) => {
      ctx.ended(this);
      return result;
    });
  }

  /** Lets a run made with `held` go (once its claim is durable). */
  go(): void {
    this.#go();
  }

  async stop(reason = "stopped on request"): Promise<void> {
    if (this.#stopReason === undefined) {
      this.#stopReason = reason;
      this.#end?.({ kind: "stopped", reason });
    }
    this.#go(); // a held run goes on only to see it is stopped, and ends without running anything
    await this.done;
  }

  #system(text: string): void {
    this.logs.push({ stream: "system", at: Date.now(), text });
  }

  async #run(): Promise<RunOutcome> {
    const dir = join(this.#ctx.runsDir, this.id);
    try {
      return await this.#inDir(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async #writeInputs(inputs: string): Promise<void> {
    await mkdir(inputs, { recursive: true });
    await Promise.all(this.#spec.inputs.map(async (input) => {
      const bytes = await fetchVerified(this.#store, input.cid, `input ${input.path}`);
      const path = join(inputs, input.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes, { mode: 0o444 });
    }));
    await chmod(inputs, 0o555);
  }

  /**
   * The sandbox is made first (image, cgroups, the command), and its first process started and held (see
   * peer/process/held-process.ts) while the inputs and source are written and it is moved into its cgroups; it is let
   * go once all of that is done, so only the exec of the job is left on the way to its first line.
   */
  async #inDir(dir: string): Promise<RunOutcome> {
    const spec = this.#spec;
    const inputs = join(dir, "inputs");
    const outputs = join(dir, "outputs");
    const src = spec.source ? join(dir, "src") : undefined;
    let sandbox: Sandbox;
    try {
      sandbox = await this.#ctx.backend.prepare({
        id: this.id,
        image: imageOf(spec.program),
        argv: spec.args,
        env: spec.env.map((e) => [e.name, e.value]),
        inputs,
        outputs,
        ...(src ? { src } : {}),
        ...(this.#options.ports ? { ports: this.#options.ports } : {}),
        network: spec.network === true,
        memoryMb: spec.limits.memoryMb,
        fileBytes: Math.max(1, spec.limits.outputBytes),
      }, this.#store);
    } catch (e) {
      return { status: "error", reason: messageOf(e), outputs: [] };
    }
    try {
      const held = sandbox.held ?? new HeldProcess("weft-job", sandbox.command, sandbox.args, {
        env: sandbox.env ?? {},
        ...(sandbox.cwd ? { cwd: sandbox.cwd } : {}),
        ...(sandbox.rlimits ? { rlimits: sandbox.rlimits } : {}),
      });
      // A spare is let go with a start script naming the job's command.
      const start = sandbox.held ? join(dir, "start.sh") : undefined;
      const ended = this.#watch(held);
      try {
        await mkdir(dir, { recursive: true });
        await Promise.all([
          mkdir(outputs),
          this.#writeInputs(inputs),
          spec.source && src
            ? fetchVerified(this.#store, spec.source.cid, "source").then((b) => writeSourceTree(src, readSource(b)))
            : undefined,
          held.confine(sandbox.cgroupProcs),
          start
            ? writeFile(start, startScript(sandbox.command, sandbox.args, sandbox.rlimits), { mode: 0o400 })
            : undefined,
        ]);
        await this.#mayRun;
      } catch (e) {
        held.kill();
        await ended;
        throw e;
      }
      if (this.#stopReason !== undefined) {
        held.kill();
        await ended;
        return { status: "stopped", reason: this.#stopReason, outputs: [] };
      }
      held.release(start);
      const ending = await this.#execute(ended, sandbox);
      await sandbox.signal("SIGKILL");
      const hit = await sandbox.limitsHit();
      await sandbox.dispose();
      const verdict = this.#verdict(ending, hit);
      if (verdict.status !== "succeeded" && verdict.status !== "failed") return verdict;
      const kept = await collectOutputs(
        outputs,
        this.#store,
        spec.limits.outputBytes,
        this.#logBytes,
        (t) => this.#system(t),
      );
      if ("over" in kept) return { status: "output-limit", reason: kept.over, outputs: [] };
      return { ...verdict, outputs: kept.outputs };
    } finally {
      await sandbox.dispose();
    }
  }

  /** The held process's output as log lines (counted against the output limit) and, once its streams closed, its exit. */
  #watch(held: HeldProcess): Promise<Ending> {
    const child = held.child;
    const limit = this.#spec.limits.outputBytes;
    return new Promise<Ending>((resolve) => {
      child.on("error", (e) => resolve({ kind: "error", reason: `could not start the sandbox: ${e.message}` }));
      const count = (n: number) => {
        this.#logBytes += n;
        if (this.#logBytes > limit) {
          this.#end?.({ kind: "output-limit", reason: `its logs passed its ${limit}-byte output limit` });
        }
      };
      const streams = [
        splitLines(child.stdout!, (text) => this.logs.push({ stream: "stdout", at: Date.now(), text }), count),
        splitLines(child.stderr!, (text) => this.logs.push({ stream: "stderr", at: Date.now(), text }), count),
      ];
      child.on("exit", (code, signal) => {
        void Promise.all(streams).then(() => resolve({ kind: "exited", code, signal }));
      });
    });
  }

  /** Wait for how the released job ends: its exit, its wall time, its output limit or a stop. */
  async #execute(exited: Promise<Ending>, sandbox: Sandbox): Promise<Ending> {
    const spec = this.#spec;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let watch: OutputWatch | undefined;
    const ending = new Promise<Ending>((resolve) => {
      this.#end = resolve;
      timer = setTimeout(() => resolve({ kind: "timeout" }), spec.limits.wallMs);
      watch = new OutputWatch(
        join(this.#ctx.runsDir, this.id, "outputs"),
        spec.limits.outputBytes,
        () => this.#logBytes,
        (reason) => resolve({ kind: "output-limit", reason }),
      );
      void exited.then(resolve);
    });
    if (this.#logBytes > spec.limits.outputBytes) {
      this.#end?.({ kind: "output-limit", reason: `its logs passed its ${spec.limits.outputBytes}-byte output limit` });
    }
    if (this.#stopReason !== undefined) this.#end?.({ kind: "stopped", reason: this.#stopReason });
    const result = await ending;
    clearTimeout(timer);
    watch?.close();
    if (result.kind === "stopped") {
      // A stop asks first: SIGTERM, then SIGKILL for whatever is left after the grace period.
      await sandbox.signal("SIGTERM");
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise<void>((r) => grace = setTimeout(r, this.#ctx.stopGraceMs))]);
      clearTimeout(grace);
    }
    await sandbox.signal("SIGKILL");
    return result;
  }

  #verdict(ending: Ending, hit: { memory: boolean; pids: boolean }): RunOutcome {
    const { limits } = this.#spec;
    if (hit.memory && ending.kind !== "stopped") {
      return { status: "out-of-memory", reason: `ran out of its ${limits.memoryMb} MB memory limit`, outputs: [] };
    }
    const pids = hit.pids ? " (it hit its process limit)" : "";
    switch (ending.kind) {
      case "timeout":
        return { status: "timeout", reason: `exceeded its ${limits.wallMs} ms wall-time limit${pids}`, outputs: [] };
      case "stopped":
        return { status: "stopped", reason: ending.reason, outputs: [] };
      case "output-limit":
        return { status: "output-limit", reason: ending.reason, outputs: [] };
      case "error":
        return { status: "error", reason: ending.reason, outputs: [] };
      case "exited": {
        if (ending.code === 0 && hit.pids) {
          // Some of its forks were refused: whatever it printed, it did not run as written.
          return { status: "failed", exitCode: 0, reason: "exited with code 0 but hit its process limit", outputs: [] };
        }
        if (ending.code === 0) return { status: "succeeded", exitCode: 0, outputs: [] };
        if (ending.code !== null) {
          return {
            status: "failed",
            exitCode: ending.code,
            reason: `exited with code ${ending.code}${pids}`,
            outputs: [],
          };
        }
        return { status: "failed", reason: `was killed by ${ending.signal ?? "a signal"}${pids}`, outputs: [] };
      }
    }
  }
}
