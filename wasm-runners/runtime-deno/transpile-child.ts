/**
 * Entry point of a Deno transpile subprocess (core/transpile-process.ts):
 * one request frame on stdin, one reply frame on stdout, under a heap limit
 * and with no permissions but reading jco's own files.
 */
import { serveTranspile } from "../core/transpile-process.ts";

interface DenoIo {
  stdin: { readable: ReadableStream<Uint8Array> };
  stdout: { writeSync(bytes: Uint8Array): number };
}

const Deno = (globalThis as unknown as { Deno: DenoIo }).Deno;

await serveTranspile(Deno.stdin.readable, (bytes) => {
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
});
