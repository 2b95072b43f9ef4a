/**
 * One run of a WebAssembly job, from spec to result: fetch and check the
 * program and inputs while a fresh sandbox process loads, hand it the job,
 * enforce the wall-time limit by killing that process, stream its log
 * lines, and turn how it ended into a status, storing its outputs when it
 * ran to the end.
 */
import { isWeftError, messageOf } from "#protocol";
import {
  type ContentStore,
  type LogLine,
  type OutputFile,
  RUN_PATH,
  type RunHandle,
  type RunResult,
  type RunSpec,
  type RunStatus,
  settleRun,
} from "#protocol/runner";
import type { SandboxExit } from "./backend.ts";
import { fetchVerified, storeOutput } from "./content.ts";
import { LogChannel } from "./log-channel.ts";
import type { JobMessage, Outcome, SandboxMessage } from "./messages.ts";
import type { SandboxPool } from "./pool.ts";
import { MAX_OUTPUT_ENTRIES, MAX_OUTPUT_NAME_BYTES } from "./output-limits.ts";
import type { Programs } from "./programs.ts";
import { wallClockSeconds } from "./spec.ts";

export interface RunContext {
  pool: SandboxPool;
  programs: Programs;
  backendName: string;
  heapMb: number;
}

type Ending =
  | { kind: "done"; message: Extract<SandboxMessage, { type: "done" }> }
  | { kind: "exited"; exit: SandboxExit }
  | { kind: "timeout" }
  | { kind: "stopped"; reason: string };

interface Verdict {
  status: RunStatus;
  exitCode?: number;
  reason?: string;
  keepOutputs: boolean;
}

export class WasmRun implements RunHandle {
  readonly id: string = crypto.randomUUID();
  readonly logs: LogChannel = new LogChannel();
  readonly done: Promise<RunResult>;
  readonly #spec: RunSpec;
  readonly #store: ContentStore;
  readonly #ctx: RunContext;
  #stopReason?: string;
  #onStop?: (reason: string) => void;

  constructor(spec: RunSpec, store: ContentStore, ctx: RunContext) {
    this.#spec = spec;
    this.#store = store;
    this.#ctx = ctx;
    this.done = settleRun(this.#run(), Date.now(), this.logs);
  }

  async stop(reason = "stopped on request"): Promise<void> {
    if (this.#stopReason === undefined) {
      this.#stopReason = reason;
      this.#onStop?.(reason);
    }
    await this.done;
  }

  #system(text: string): void {
    this.logs.push({ stream: "system", at: Date.now(), text });
  }

  async #run(): Promise<Verdict & { outputs: OutputFile[] }> {
    const spec = this.#spec;
    // The sandbox loads while the program and inputs are fetched and prepared.
    const sandbox = this.#ctx.pool.acquire();
    let job: JobMessage;
    try {
      job = await this.#job();
    } catch (e) {
      await sandbox.kill();
      const status = isWeftError(e, "wasm/memory-limit") ? "out-of-memory" : "error";
      return { status, reason: messageOf(e), keepOutputs: false, outputs: [] };
    }
    if (this.#stopReason !== undefined) {
      await sandbox.kill();
      return { status: "stopped", reason: this.#stopReason, keepOutputs: false, outputs: [] };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ending = await new Promise<Ending>((resolve) => {
      this.#onStop = (reason) => resolve({ kind: "stopped", reason });
      sandbox.exited.then((exit) => resolve({ kind: "exited", exit }));
      sandbox.onMessage((m) => {
        if (m.type === "log") this.logs.push({ stream: m.stream, at: m.at, text: m.text } satisfies LogLine);
        else if (m.type === "done") resolve({ kind: "done", message: m });
      });
      sandbox.ready.then(() => {
        if (this.#stopReason !== undefined) return;
        sandbox.send(job);
        this.#system(`running in a ${this.#ctx.backendName} sandbox`);
        timer = setTimeout(() => resolve({ kind: "timeout" }), spec.limits.wallMs);
      }, (e) => resolve({ kind: "exited", exit: { kind: "crashed", message: messageOf(e) } }));
    });
    clearTimeout(timer);
    // A job that reported back has finished; one that did not must be dead before the run ends.
    const killed = sandbox.kill();
    if (ending.kind !== "done") await killed;
    const verdict = this.#verdict(ending);
    if (!verdict.keepOutputs || ending.kind !== "done") return { ...verdict, outputs: [] };
    for (const skipped of ending.message.skipped) this.#system(skipped);
    return await this.#keep(verdict, ending.message.outputs);
  }

  async #job(): Promise<JobMessage> {
    const spec = this.#spec;
    const [program, inputs] = await Promise.all([
      this.#ctx.programs.get(
        spec.program,
        spec.limits.memoryMb,
        () => fetchVerified(this.#store, spec.program, "program"),
      ),
      Promise.all(
        spec.inputs.map(async (i): Promise<[string, Uint8Array]> => [
          i.path,
          await fetchVerified(this.#store, i.cid, `input ${i.path}`),
        ]),
      ),
    ]);
    return {
      type: "job",
      glue: program.glue,
      modules: program.modules,
      memories: program.memories,
      args: ["job", ...spec.args],
      env: spec.env.map((e): [string, string] => [e.name, e.value]),
      inputs,
      outputBytes: spec.limits.outputBytes,
      wallClockSeconds: wallClockSeconds(spec),
    };
  }

  #verdict(ending: Ending): Verdict {
    const { limits } = this.#spec;
    switch (ending.kind) {
      case "timeout":
        return { status: "timeout", reason: `exceeded its ${limits.wallMs} ms wall-time limit`, keepOutputs: false };
      case "stopped":
        return { status: "stopped", reason: ending.reason, keepOutputs: false };
      case "exited":
        if (ending.exit.kind === "out-of-memory") {
          return {
            status: "out-of-memory",
            reason: `exceeded the sandbox's ${this.#ctx.heapMb} MB heap limit (${ending.exit.message})`,
            keepOutputs: false,
          };
        }
        return {
          status: "error",
          reason: `the ${this.#ctx.backendName} sandbox ended before the job did` +
            (ending.exit.kind === "crashed" ? `: ${ending.exit.message}` : ""),
          keepOutputs: false,
        };
      case "done":
        return this.#outcome(ending.message.outcome);
    }
  }

  #outcome(outcome: Outcome): Verdict {
    const { limits } = this.#spec;
    switch (outcome.kind) {
      case "exit":
        return outcome.code === 0
          ? { status: "succeeded", exitCode: 0, keepOutputs: true }
          : { status: "failed", exitCode: outcome.code, reason: `exited with code ${outcome.code}`, keepOutputs: true };
      case "trap":
        return outcome.outOfMemory
          ? {
            status: "out-of-memory",
            reason: `ran out of its ${limits.memoryMb} MB memory limit (${outcome.message})`,
            keepOutputs: false,
          }
          : { status: "failed", reason: `trapped: ${outcome.message}`, keepOutputs: true };
      case "output-limit":
        return { status: "output-limit", reason: outcome.message, keepOutputs: false };
      case "error":
        return { status: "error", reason: outcome.message, keepOutputs: false };
    }
  }

  /** Why the outputs the sandbox reported are more than this run may keep, if they are; checked before any is stored. */
  #overLimits(files: [string, Uint8Array][]): string | undefined {
    const limit = this.#spec.limits.outputBytes;
    if (files.length > MAX_OUTPUT_ENTRIES) {
      return `it left ${files.length} output files, more than the ${MAX_OUTPUT_ENTRIES} a run may keep`;
    }
    const encoder = new TextEncoder();
    const names = files.reduce((n, [path]) => n + encoder.encode(path).length, 0);
    if (names > MAX_OUTPUT_NAME_BYTES) {
      return `its output files' names total ${names} bytes, more than the ${MAX_OUTPUT_NAME_BYTES} a run may keep`;
    }
    const total = files.reduce((n, [, bytes]) => n + bytes.length, names);
    if (total > limit) {
      return `its output files and their names total ${total} bytes, over its ${limit}-byte output limit`;
    }
    return undefined;
  }

  async #keep(verdict: Verdict, files: [string, Uint8Array][]): Promise<Verdict & { outputs: OutputFile[] }> {
    const over = this.#overLimits(files);
    if (over !== undefined) return { status: "output-limit", reason: over, keepOutputs: false, outputs: [] };
    const outputs: OutputFile[] = [];
    for (const [path, bytes] of files) {
      if (RUN_PATH.test(path)) outputs.push(await storeOutput(this.#store, path, bytes));
      else this.#system(`output ${JSON.stringify(path)} has a name an output may not have (see RUN_PATH); not kept`);
    }
    return { ...verdict, outputs };
  }
}
