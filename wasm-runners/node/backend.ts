/**
 * Sandbox processes on Node: one `node` subprocess per job, with an empty
 * environment, no inherited Node flags, a V8 heap limit, and Node's
 * permission model granting nothing but reading the sandbox's own code (no
 * writes, no child processes, no workers, no addons). A subprocess rather
 * than a worker thread, because V8 handles some out-of-memory failures
 * (a growing WebAssembly table, for one) by aborting the whole process: in
 * a worker thread that is the daemon; here it is only the job. Killing it
 * stops even a busy loop, which is how the runner enforces the wall-time
 * limit. Modules cross as bytes and are compiled in the subprocess.
 */
import { spawn as spawnChild } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import type { SandboxBackend, SandboxProcess } from "../core/backend.ts";
import { framedProcess } from "../core/framed-process.ts";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));
/** What the subprocess may read: this repository's code and the packages it imports (node_modules may be a link). */
const READABLE = [new URL("../../", import.meta.url), new URL("../../node_modules/", import.meta.url)]
  .map((u) => realpathSync(fileURLToPath(u)));

function spawn(heapMb: number): SandboxProcess {
  const child = spawnChild(process.execPath, [
    `--max-old-space-size=${heapMb}`,
    "--permission",
    ...READABLE.map((dir) => `--allow-fs-read=${dir}`),
    "--no-warnings",
    CHILD,
  ], { stdio: ["pipe", "pipe", "pipe"], env: {} });
  // A job that ends before reading its frame closes the pipe under us; that is no error of ours.
  child.stdin.on("error", () => {});
  const status = new Promise<{ success: boolean; code: number | null; signal: string | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ success: code === 0, code, signal }));
  });
  const pipes = [child.stdin, child.stdout, child.stderr] as unknown as { ref(): void; unref(): void }[];
  return framedProcess({
    stdout: child.stdout,
    stderr: child.stderr,
    status,
    writeAndClose: (bytes) => child.stdin.end(bytes),
    kill: () => void child.kill("SIGKILL"),
    setKeepAlive(keep) {
      for (const p of [child, ...pipes]) keep ? p.ref() : p.unref();
    },
  });
}

export function nodeSubprocessBackend(): SandboxBackend {
  return {
    name: "node subprocess",
    sendsCompiledModules: false,
    available: () => Promise.resolve(typeof process.execPath === "string" && !("Deno" in globalThis)),
    spawn,
  };
}
