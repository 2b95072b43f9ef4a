/**
 * The WebAssembly runner: the `Runner` for specs with `runner: "wasm"`, on
 * whatever runtime supplies the sandbox backend (runtime-node/, runtime-deno/, runtime-browser/ each
 * have a factory that picks theirs). Runtime-agnostic: no node:*, no Deno.
 */
import type { ContentStore, RunHandle, Runner, RunSpec } from "#protocol/runner";
import type { SandboxBackend } from "./backend.ts";
import { SandboxPool } from "./pool.ts";
import { Programs } from "./programs.ts";
import { WasmRun } from "./run.ts";
import { checkWasmSpec } from "./spec.ts";
import { type TranspileCache, type TranspileFn, Transpiler } from "./transpile.ts";

export interface WasmRunnerOptions {
  backend: SandboxBackend;
  /** Where transpiled components outlive the process (the peer's disk); memory only if absent. */
  cache?: TranspileCache;
  /** Keep a sandbox process started ahead of the next job (default true). */
  warm?: boolean;
  /** JS heap limit of each sandbox process, in MB, where the runtime can set one (default 128). */
  heapMb?: number;
  /** How components are transpiled (default: jco in this thread). */
  transpile?: TranspileFn;
}

export interface WasmRunner extends Runner {
  readonly kind: "wasm";
  /** The sandbox backend's name, e.g. "node subprocess". */
  readonly sandbox: string;
  /**
   * Start a run. Throws InvalidInput (a WeftError) at once if the spec is
   * malformed, is not a "wasm" spec or asks for network; every other failure
   * is a status on `done`.
   */
  start(spec: RunSpec, store: ContentStore): RunHandle;
  /** Resolves once a sandbox process is loaded and waiting for the next job. */
  warmUp(): Promise<void>;
  /** Stop the spare sandbox process; runs in progress carry on. */
  close(): Promise<void>;
}

export function createWasmRunner(options: WasmRunnerOptions): WasmRunner {
  const { backend } = options;
  const heapMb = options.heapMb ?? 128;
  const pool = new SandboxPool(backend, heapMb, options.warm ?? true);
  const transpiler = new Transpiler(options.cache, undefined, options.transpile);
  const programs = new Programs(transpiler, backend.sendsCompiledModules);
  const ctx = { pool, programs, backendName: backend.name, heapMb };
  return {
    kind: "wasm",
    sandbox: backend.name,
    async available() {
      return typeof WebAssembly === "object" && await backend.available();
    },
    start(spec, store) {
      return new WasmRun(checkWasmSpec(spec), store, ctx);
    },
    warmUp: () => pool.warmUp(),
    async close() {
      await pool.close();
      await transpiler.idle(); // no cache write left in flight once closed
    },
  };
}
