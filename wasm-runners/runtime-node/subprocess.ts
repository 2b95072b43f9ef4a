/**
 * A `node` subprocess for untrusted work (a job's sandbox, a component's
 * transpile): an empty environment, no inherited Node flags, a V8 heap
 * limit, and Node's permission model granting nothing but reading this
 * repository's code and the packages it imports (no writes, no child
 * processes, no addons, and no workers unless asked for). Whatever the work does to that
 * process — an out-of-memory abort included — ends that process only.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** What the subprocess may read: this repository's code and the packages it imports (node_modules may be a link). */
const READABLE = [new URL("../../", import.meta.url), new URL("../../node_modules/", import.meta.url)]
  .map((u) => realpathSync(fileURLToPath(u)));

/**
 * Start `entry` (a file URL) in a fresh subprocess whose heap is limited to
 * `heapMb`; `allowWorker` lets it start worker threads (jco needs one),
 * which are held to the same permissions.
 */
export function spawnNode(entry: URL, heapMb: number, allowWorker = false): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [
    `--max-old-space-size=${heapMb}`,
    "--permission",
    ...READABLE.map((dir) => `--allow-fs-read=${dir}`),
    ...(allowWorker ? ["--allow-worker"] : []),
    "--no-warnings",
    fileURLToPath(entry),
  ], { stdio: ["pipe", "pipe", "pipe"], env: {} });
  // A process that ends before reading all its input closes the pipe under us; that is no error of ours.
  child.stdin.on("error", () => {});
  return child;
}

/** Resolves when `child` has exited (and its stdio closed). */
export function exitOf(
  child: ChildProcessWithoutNullStreams,
): Promise<{ success: boolean; code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    child.once("close", (code, signal) => resolve({ success: code === 0, code, signal }));
  });
}
