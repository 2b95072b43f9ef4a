/**
 * Entry point of a Deno sandbox subprocess: its stdio carries the framed
 * messages (see sandbox/serve-framed.ts). The runner starts it with no
 * permissions at all and kills it when the job ends.
 */
import { serveFramed } from "../sandbox/serve-framed.ts";

interface DenoIo {
  stdin: { readable: ReadableStream<Uint8Array> };
  stdout: { writeSync(bytes: Uint8Array): number };
}

const Deno = (globalThis as unknown as { Deno: DenoIo }).Deno;
// jco's glue looks for `process.env.JCO_DEBUG`; without env permission Deno throws on the lookup.
Object.defineProperty(globalThis, "process", { value: undefined, configurable: true });

serveFramed({ stdin: Deno.stdin.readable, writeSync: (bytes) => Deno.stdout.writeSync(bytes) });
