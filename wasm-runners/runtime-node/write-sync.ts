/**
 * Blocking writes to a subprocess's stdout. A pipe may be non-blocking, so
 * `fs.writeSync` can fail with EAGAIN when the parent has not read yet; the
 * sandbox writes from inside a synchronous WebAssembly call and cannot
 * yield to the event loop, so it waits a millisecond and tries again.
 */
import { writeSync } from "node:fs";

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write some of `bytes` to `fd`; returns how many were written (0 if the pipe was full). */
export function writeSomeSync(fd: number, bytes: Uint8Array): number {
  try {
    return writeSync(fd, bytes);
  } catch (e) {
    if ((e as { code?: string }).code !== "EAGAIN") throw e;
    Atomics.wait(pause, 0, 0, 1);
    return 0;
  }
}

/** Write all of `bytes` to `fd`, blocking. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += writeSomeSync(fd, bytes.subarray(at));
}
