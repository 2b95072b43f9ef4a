/**
 * Sandbox processes on Node: one worker_threads Worker per job, with an
 * empty environment, no inherited Node flags, and V8 `resourceLimits` on its
 * heap (exceeding them ends the worker with ERR_WORKER_OUT_OF_MEMORY).
 * `worker.terminate()` stops even a busy loop in WebAssembly, which is how
 * the runner enforces the wall-time limit. Compiled modules are shared with
 * the worker rather than recompiled.
 */
import { Worker } from "node:worker_threads";
import type { SandboxBackend, SandboxExit, SandboxProcess } from "../core/backend.ts";
import type { SandboxMessage } from "../core/messages.ts";

const ENTRY = new URL("./worker.ts", import.meta.url);

function spawn(heapMb: number): SandboxProcess {
  const worker = new Worker(ENTRY, {
    env: {},
    argv: [],
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(32, heapMb / 4) },
  });
  let failure: SandboxExit | undefined;
  let killed = false;
  worker.on("error", (e: Error & { code?: string }) => {
    failure = e.code === "ERR_WORKER_OUT_OF_MEMORY"
      ? { kind: "out-of-memory", message: e.message }
      : { kind: "crashed", message: e.message };
  });
  const exited = new Promise<SandboxExit>((resolve) => {
    worker.once("exit", (code) => {
      resolve(
        failure ?? (killed || code === 0 ? { kind: "exited" } : { kind: "crashed", message: `exit code ${code}` }),
      );
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once("message", (m: SandboxMessage) => m.type === "ready" && resolve());
    exited.then((exit) => reject(new Error(`the worker ended while loading (${exit.kind})`)));
  });
  return {
    ready,
    exited,
    send: (job) => worker.postMessage(job),
    onMessage: (listener) => worker.on("message", listener),
    async kill() {
      killed = true;
      await worker.terminate();
    },
    setKeepAlive: (keep) => (keep ? worker.ref() : worker.unref()),
  };
}

export function nodeWorkerBackend(): SandboxBackend {
  return {
    name: "node worker",
    sendsCompiledModules: true,
    // Deno has node:worker_threads too, but there terminate() leaves a busy loop running: use deno/ there.
    available: () => Promise.resolve(!("Deno" in globalThis)),
    spawn,
  };
}
