/**
 * Loaded first into every `node --test` process (the `--import` of the
 * `test` and `test:files` scripts): makes this process's stdout blocking,
 * so `--test-force-exit` cannot drop a test file's last verdicts.
 *
 * Each test file runs in a process of its own that streams its results to
 * the runner over a pipe, and a pipe's writes are asynchronous on Linux.
 * Force-exit calls process.exit() with frames still queued: the runner then
 * counts fewer tests than ran, and a failure's name and error can go with
 * them (nodejs/node#64833, still open in Node 24; the fix proposed upstream,
 * nodejs/node#64875, turns the pipe blocking the same way before exit).
 * Blocking from the start costs a test file nothing it would notice: the
 * runner reads its children's pipes continuously.
 */
interface BlockingHandle {
  setBlocking?(blocking: boolean): unknown;
}

(process.stdout as unknown as { _handle?: BlockingHandle })._handle?.setBlocking?.(true);
