/**
 * Exiting once the output is out. Node writes to a pipe asynchronously (on
 * Linux too), so `process.exit()` straight after a large write drops what
 * the pipe had not taken yet: `weft agent transcript` into a reader slower
 * than the CLI (a pager, a loaded machine's test runner) delivered its
 * first 64–128 KiB and exited 0. The CLI exits through here instead.
 */
import process from "node:process";
import type { Writable } from "node:stream";

/** Resolves once everything written to `stream` so far is handed to the OS, or the stream failed (EPIPE). */
function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // A reader that went away (`weft … | head`): nothing more can be delivered, and that is no error of ours.
    stream.once("error", () => resolve());
    stream.write("", () => resolve());
  });
}

/** Exit with `code` once stdout and stderr have been written out. */
export async function exitFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
