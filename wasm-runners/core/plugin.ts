/**
 * The WebAssembly runner as a plug-in (protocol/runner/plugin.ts): the
 * `[runners.wasm]` settings, the probe that says whether this runtime can
 * sandbox jobs, and the lifecycle around a WasmRunner — close() stops every
 * run it started, then its spare sandbox. Each runtime (runtime-node,
 * runtime-deno, runtime-browser) supplies only how the runner is made.
 */
import type { ManagedRunner, RunHandle, RunnerHost, RunnerPlugin } from "#protocol/runner";
import { InvalidInput } from "#protocol/schema";
import type { WasmRunner } from "./runner.ts";

export interface WasmConfig {
  /** Keep a sandbox started ahead of the next job. */
  warm: boolean;
  /** JS heap limit of each sandbox process, in MB, where the runtime can set one. */
  heapMb: number;
}

const KEYS = ["warm", "heap_mb"];

/** `[runners.wasm]`: `warm` (boolean) and `heap_mb` (16 to 4096), over `defaults`. */
function parseWasmConfig(raw: unknown, defaults: WasmConfig): WasmConfig {
  if (raw === undefined) return { ...defaults };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InvalidInput("runners.wasm", "must be a table");
  }
  const t = raw as Record<string, unknown>;
  for (const k of Object.keys(t)) {
    if (!KEYS.includes(k)) {
      throw new InvalidInput(`runners.wasm.${k}`, `is not a known setting (known: ${KEYS.join(", ")})`);
    }
  }
  const config = { ...defaults };
  if (t.warm !== undefined) {
    if (typeof t.warm !== "boolean") throw new InvalidInput("runners.wasm.warm", "must be true or false");
    config.warm = t.warm;
  }
  if (t.heap_mb !== undefined) {
    const n = t.heap_mb;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 16 || n > 4096) {
      throw new InvalidInput("runners.wasm.heap_mb", "must be an integer from 16 to 4096");
    }
    config.heapMb = n;
  }
  return config;
}

/** A WasmRunner with the plug-in lifecycle: it advertises its sandbox, and close() stops its runs. */
function managedWasmRunner(runner: WasmRunner): ManagedRunner {
  const runs = new Set<RunHandle>();
  let closing: Promise<void> | undefined;
  return {
    kind: runner.kind,
    available: () => runner.available(),
    start(spec, store) {
      const handle = runner.start(spec, store);
      runs.add(handle);
      void handle.done.finally(() => runs.delete(handle));
      return handle;
    },
    advertise: () => ({ sandbox: runner.sandbox }),
    warmUp: () => runner.warmUp(),
    close() {
      closing ??= (async () => {
        await Promise.all([...runs].map(async (h) => {
          await h.stop("the runner is closing");
          await h.done;
        }));
        await runner.close();
      })();
      return closing;
    },
  };
}

/** The wasm plug-in for a runtime: `make` builds its WasmRunner from the settings and the host. */
export function wasmPlugin(
  defaults: WasmConfig,
  make: (config: WasmConfig, host: RunnerHost) => WasmRunner,
): RunnerPlugin<WasmConfig> {
  return {
    kind: "wasm",
    description: "WebAssembly components (WASI 0.2), each in a fresh sandbox process; needs nothing installed",
    parseConfig: (raw) => parseWasmConfig(raw, defaults),
    async create(config, host) {
      const runner = make(config, host);
      if (!(await runner.available())) {
        return { unavailable: `WebAssembly cannot run in a ${runner.sandbox} sandbox on this machine` };
      }
      return managedWasmRunner(runner);
    },
  };
}
