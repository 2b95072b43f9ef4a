/**
 * The wasm runner plug-in for a browser tab: each job in a Web Worker,
 * transpiled components kept in memory. No spare worker by default: a tab
 * offering capacity should cost nothing until a job comes.
 */
import type { RunnerPlugin } from "#protocol/runner";
import { type WasmConfig, wasmPlugin } from "../core/plugin.ts";
import { createBrowserWasmRunner } from "./runner.ts";

export const wasmBrowserPlugin: RunnerPlugin<WasmConfig> = wasmPlugin(
  { warm: false, heapMb: 128 },
  (config) => createBrowserWasmRunner({ warm: config.warm }),
);
