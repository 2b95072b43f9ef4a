/**
 * Entry point of a Node sandbox worker thread: carries messages between the
 * runner's thread and the sandbox. The runner kills the thread when the job
 * ends, so it never takes a second job.
 */
import { parentPort } from "node:worker_threads";
import type { JobMessage } from "../core/messages.ts";
import { serveSandbox } from "../sandbox/serve.ts";

const port = parentPort!;
serveSandbox({
  post: (message, transfer) => port.postMessage(message, transfer),
  onJob: (handler) => port.once("message", (job: JobMessage) => handler(job)),
});
