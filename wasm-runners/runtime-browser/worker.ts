/**
 * Entry point of a browser sandbox Web Worker: carries messages between the
 * page and the sandbox. The runner terminates the worker when the job ends.
 */
import type { JobMessage, SandboxMessage } from "../core/messages.ts";
import { serveSandbox } from "../sandbox/serve.ts";

interface WorkerScope {
  postMessage(message: SandboxMessage, transfer: ArrayBuffer[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent<JobMessage>) => void, options: { once: true }): void;
}

const scope = globalThis as unknown as WorkerScope;
serveSandbox({
  post: (message, transfer) => scope.postMessage(message, transfer),
  onJob: (handler) => scope.addEventListener("message", (e) => handler(e.data), { once: true }),
});
