/**
 * The sandbox side of a subprocess sandbox: its one job arrives as a frame
 * on stdin, and its messages leave as frames written synchronously to
 * stdout, so log lines get out while the component is still running.
 * Runtime-agnostic: runtime-node/child.ts and runtime-deno/child.ts pass their stdio.
 */
import { encodeFrame, FrameDecoder } from "../core/frames.ts";
import type { JobMessage } from "../core/messages.ts";
import { serveSandbox } from "./serve.ts";

export interface FramedStdio {
  stdin: AsyncIterable<Uint8Array>;
  /** Write to stdout, blocking; returns how many bytes were written. */
  writeSync(bytes: Uint8Array): number;
}

export function serveFramed(stdio: FramedStdio): void {
  const writeAll = (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length;) at += stdio.writeSync(bytes.subarray(at));
  };
  const firstJob = async (handler: (job: JobMessage) => void) => {
    const decoder = new FrameDecoder();
    for await (const chunk of stdio.stdin) {
      const [job] = decoder.push(chunk);
      if (job !== undefined) return handler(job as JobMessage);
    }
  };
  serveSandbox({
    post: (message) => writeAll(encodeFrame(message)),
    onJob: (handler) => void firstJob(handler),
  });
}
