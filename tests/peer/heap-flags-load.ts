/**
 * Child process for the heap-flags test: what a peer does to memory while
 * it moves a git pack — a live heap of `LIVE_MB` (the peer's documents and
 * libp2p), and `BULK_MB` of 64 KiB messages each read into a fresh buffer
 * and sealed by node:crypto's ChaCha20-Poly1305 into another, both dropped
 * at once. With `tuned` as its argument it first sets the daemon's flags
 * (peer/daemon/heap-flags.ts). Prints {major, peakRssMiB}: the full
 * collections the bulk traffic started, and the peak resident memory.
 */
import { constants, PerformanceObserver } from "node:perf_hooks";
import { createCipheriv, randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import process from "node:process";
import { tuneHeapForBulkBytes } from "../../peer/daemon/heap-flags.ts";

if (process.argv[2] === "tuned") tuneHeapForBulkBytes();
const LIVE_MB = 30, BULK_MB = 840, MESSAGE = 64 * 1024;

/** About a KiB each: small objects, as a peer's heap holds, for every full collection to mark. */
const live = Array.from({ length: LIVE_MB * 1024 }, (_, i) => ({ i, fields: new Array(100).fill(i) }));
let major = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (
      (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR
    ) major++;
  }
}).observe({ entryTypes: ["gc"] });

const key = randomBytes(32), nonce = randomBytes(12), message = randomBytes(MESSAGE);
for (let i = 0; i < (BULK_MB * 1024 * 1024) / MESSAGE; i++) {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  cipher.update(Buffer.from(message));
  cipher.final();
  // A turn of the event loop now and then, as a peer between reads (V8 runs its GC tasks there).
  if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await new Promise((resolve) => setTimeout(resolve, 50));
const peakRssMiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
console.log(JSON.stringify({ major, peakRssMiB, live: live.length }));
