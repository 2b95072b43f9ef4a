/**
 * The WebAssembly runner for a Node peer: sandboxes are `node` subprocesses, and
 * transpiled components are also kept on disk when given a directory
 * (the daemon passes one under its data dir).
 */
import type { SandboxBackend } from "../core/backend.ts";
import { createWasmRunner, type WasmRunner } from "../core/runner.ts";
import { nodeSubprocessBackend } from "./backend.ts";
import { diskTranspileCache } from "./transpile-cache.ts";
import { subprocessTranspile } from "./transpile-process.ts";
import type { TranspileFn } from "../core/transpile.ts";

export interface PeerWasmRunnerOptions {
  /** Directory for transpiled components (created when first needed); memory only if absent. */
  cacheDir?: string;
  /** Keep a sandbox process started ahead of the next job (default true). */
  warm?: boolean;
  /** Heap limit of each sandbox process in MB (default 128). */
  heapMb?: number;
}

export type NodeWasmRunnerOptions = PeerWasmRunnerOptions;

/**
 * A runner on a peer with a disk (Node or Deno): `backend`'s sandboxes,
 * transpiled components under `cacheDir`, transpiled by `transpile`.
 */
export function createPeerWasmRunner(
  backend: SandboxBackend,
  options: PeerWasmRunnerOptions = {},
  transpile?: TranspileFn,
): WasmRunner {
  return createWasmRunner({
    backend,
    cache: options.cacheDir === undefined ? undefined : diskTranspileCache(options.cacheDir),
    warm: options.warm,
    heapMb: options.heapMb,
    transpile,
  });
}

/** Sandboxes and transpiles both in `node` subprocesses. */
export function createNodeWasmRunner(options: NodeWasmRunnerOptions = {}): WasmRunner {
  return createPeerWasmRunner(nodeSubprocessBackend(), options, subprocessTranspile());
}
