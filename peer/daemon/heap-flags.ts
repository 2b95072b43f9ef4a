/**
 * The V8 setting the daemon runs with, set on itself at start: memory held
 * outside the JS heap (the ArrayBuffers of socket and pipe reads, of
 * decrypted and encrypted noise messages) counts toward the heap's own
 * limit for the next full collection, instead of starting one every 64 MB
 * it grows by (V8's separate "external memory pressure" trigger).
 *
 * Why: a peer moving a git pack allocates every byte about twice (the read,
 * then the cipher's output — node:crypto has no in-place AEAD) and drops it
 * a moment later. Under the default, each 64 MB of those short-lived
 * buffers starts a full mark of the whole heap, however small the garbage:
 * 3 full collections per peer per clone of 51 MiB, half of each peer's CPU
 * (tests/bench/README.md, issue 15, session of 3 December — clone2).
 * Counted in the global limit the same traffic takes 0–1, and the cost no
 * longer grows with the heap: 420 MB of 64 KiB cipher outputs beside a
 * 200 MB live heap took 2.8 s of CPU and 13 full collections by default,
 * 1.0 s and none with it. The price is memory: buffers wait longer to be
 * freed, +56 to +107 MB of peak RSS in those runs (heaps of 30 to 530 MB),
 * +100 to +140 MB in the clone bench's peers; it does not grow with the
 * bytes moved (the same +65 MB for 420 MB as for 840 MB:
 * tests/peer/heap-flags.test.ts).
 *
 * Only on the V8 it was measured on (Node 24's 13.6) or newer: older ones
 * do not know the flag.
 */
import { setFlagsFromString } from "node:v8";
import process from "node:process";

export const EXTERNAL_MEMORY_FLAG = "--external-memory-accounted-in-global-limit";

/** The oldest V8 (major, minor) known to have EXTERNAL_MEMORY_FLAG. */
const SINCE: readonly [number, number] = [13, 6];

/** Whether this runtime's V8 knows EXTERNAL_MEMORY_FLAG. */
export function knowsExternalMemoryFlag(v8Version = process.versions.v8): boolean {
  const [major, minor] = v8Version.split(".").map(Number);
  return major > SINCE[0] || (major === SINCE[0] && minor >= SINCE[1]);
}

/** Set the daemon's V8 flags on this process; call once, at start, before the peer moves bulk bytes. */
export function tuneHeapForBulkBytes(): void {
  if (knowsExternalMemoryFlag()) setFlagsFromString(EXTERNAL_MEMORY_FLAG);
}
