/**
 * The WebAssembly runner for a browser tab (the PWA): sandboxes are Web
 * Workers; transpiled components are kept in memory, or in the cache the
 * page passes (e.g. one backed by IndexedDB).
 */
import { createWasmRunner, type WasmRunner } from "../core/runner.ts";
import type { TranspileCache } from "../core/transpile.ts";
import { browserWorkerBackend } from "./backend.ts";

export interface BrowserWasmRunnerOptions {
  cache?: TranspileCache;
  /** Keep a sandbox worker started ahead of the next job (default true). */
  warm?: boolean;
}

export function createBrowserWasmRunner(options: BrowserWasmRunnerOptions = {}): WasmRunner {
  return createWasmRunner({ backend: browserWorkerBackend(), cache: options.cache, warm: options.warm });
}
