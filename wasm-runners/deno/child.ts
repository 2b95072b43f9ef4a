/**
 * Entry point of a Deno sandbox subprocess: reads its one job as a frame on
 * stdin and writes its messages as frames on stdout, synchronously, so log
 * lines leave while the component is still running. The runner starts it
 * with no permissions at all and kills it when the job ends.
 */
import { encodeFrame, FrameDecoder } from "../core/frames.ts";
import type { JobMessage } from "../core/messages.ts";
import { serveSandbox } from "../sandbox/serve.ts";

interface DenoIo {
  stdin: { readable: ReadableStream<Uint8Array> };
  stdout: { writeSync(bytes: Uint8Array): number };
}

const Deno = (globalThis as unknown as { Deno: DenoIo }).Deno;
// jco's glue looks for `process.env.JCO_DEBUG`; without env permission Deno throws on the lookup.
Object.defineProperty(globalThis, "process", { value: undefined, configurable: true });

function writeAll(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

async function firstJob(handler: (job: JobMessage) => void): Promise<void> {
  const decoder = new FrameDecoder();
  for await (const chunk of Deno.stdin.readable) {
    const [job] = decoder.push(chunk);
    if (job !== undefined) return handler(job as JobMessage);
  }
}

serveSandbox({
  post: (message) => writeAll(encodeFrame(message)),
  onJob: (handler) => void firstJob(handler),
});
