/**
 * Sandbox processes in a browser: one module Web Worker per job, so a tab
 * can offer capacity for WebAssembly jobs. `terminate()` stops a worker even
 * in a busy loop. Browsers offer no heap limit for a worker, so memory is
 * bounded by the linear-memory caps written into the component's modules
 * and by the output limit; compiled modules are shared with the worker.
 */
import type { SandboxBackend, SandboxExit, SandboxProcess } from "../core/backend.ts";
import type { SandboxMessage } from "../core/messages.ts";

function spawn(): SandboxProcess {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "weft-wasm-sandbox" });
  const listeners: ((m: SandboxMessage) => void)[] = [];
  let end!: (exit: SandboxExit) => void;
  const exited = new Promise<SandboxExit>((resolve) => (end = resolve));
  worker.addEventListener("message", (e: MessageEvent<SandboxMessage>) => {
    for (const l of listeners) l(e.data);
  });
  worker.addEventListener("error", (e: ErrorEvent) => {
    const message = e.message || "the worker failed";
    worker.terminate();
    end(
      /out of memory|allocation failed/i.test(message)
        ? { kind: "out-of-memory", message }
        : { kind: "crashed", message },
    );
  });
  const ready = new Promise<void>((resolve, reject) => {
    listeners.push((m) => m.type === "ready" && resolve());
    exited.then((exit) => reject(new Error(`the worker ended while loading (${exit.kind})`)));
  });
  return {
    ready,
    exited,
    send: (job) => worker.postMessage(job),
    onMessage: (listener) => listeners.push(listener),
    kill() {
      worker.terminate();
      end({ kind: "exited" });
      return Promise.resolve();
    },
    setKeepAlive: () => {},
  };
}

export function browserWorkerBackend(): SandboxBackend {
  return {
    name: "browser worker",
    sendsCompiledModules: true,
    available: () => Promise.resolve(typeof Worker === "function"),
    spawn,
  };
}
