/**
 * The WebAssembly runner for a Deno peer: sandboxes and transpiles both in
 * permissionless `deno run` subprocesses; transpiled components are kept on
 * disk when given a directory.
 */
import type { WasmRunner } from "../core/runner.ts";
import type { TranspileProcessOptions } from "../core/transpile-process.ts";
import { createPeerWasmRunner, type PeerWasmRunnerOptions } from "../runtime-node/runner.ts";
import { denoSubprocessBackend } from "./backend.ts";
import { denoSubprocessTranspile } from "./transpile-process.ts";

export interface DenoWasmRunnerOptions extends PeerWasmRunnerOptions {
  /** Limits of the transpile subprocess. */
  transpile?: TranspileProcessOptions;
}

export function createDenoWasmRunner(options: DenoWasmRunnerOptions = {}): WasmRunner {
  return createPeerWasmRunner(denoSubprocessBackend(), options, denoSubprocessTranspile(options.transpile));
}
