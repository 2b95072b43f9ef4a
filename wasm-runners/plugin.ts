/**
 * The wasm runner plug-in for a peer (Node or Deno): sandboxes are
 * subprocesses of the runtime the peer runs on, and transpiled components
 * are kept in the runner's state directory.
 */
import type { RunnerPlugin } from "#protocol/runner";
import { type WasmConfig, wasmPlugin } from "./core/plugin.ts";
import { createDenoWasmRunner } from "./runtime-deno/runner.ts";
import { createNodeWasmRunner } from "./runtime-node/runner.ts";

export const wasmPeerPlugin: RunnerPlugin<WasmConfig> = wasmPlugin({ warm: true, heapMb: 128 }, (config, host) => {
  const options = {
    cacheDir: host.stateDir,
    warm: config.warm,
    heapMb: config.heapMb,
  };
  return "Deno" in globalThis ? createDenoWasmRunner(options) : createNodeWasmRunner(options);
});
