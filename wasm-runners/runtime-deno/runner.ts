/**
 * The WebAssembly runner for a Deno peer: sandboxes are permissionless
 * `deno run` subprocesses; transpiled components are kept on disk when
 * given a directory.
 */
import type { WasmRunner } from "../core/runner.ts";
import { createPeerWasmRunner, type PeerWasmRunnerOptions } from "../runtime-node/runner.ts";
import { denoSubprocessBackend } from "./backend.ts";

export type DenoWasmRunnerOptions = PeerWasmRunnerOptions;

export function createDenoWasmRunner(options: DenoWasmRunnerOptions = {}): WasmRunner {
  return createPeerWasmRunner(denoSubprocessBackend(), options);
}
