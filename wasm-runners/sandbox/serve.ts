/**
 * The sandbox side of a sandbox process: say "ready", take one job, run it,
 * report. Each runtime's entry point (runtime-node/child.ts and runtime-deno/child.ts
 * through serve-framed.ts, runtime-browser/worker.ts) supplies only how messages travel.
 */
import type { JobMessage, SandboxMessage } from "../core/messages.ts";
import { runJob } from "./job.ts";

export interface SandboxPort {
  post(message: SandboxMessage, transfer: ArrayBuffer[]): void;
  /** Call `handler` with the first job that arrives. */
  onJob(handler: (job: JobMessage) => void): void;
}

export function serveSandbox(port: SandboxPort): void {
  port.onJob((job) => void runJob(job, (m, transfer) => port.post(m, transfer)));
  port.post({ type: "ready" }, []);
}
