/**
 * Sandbox processes on Node: one `node` subprocess per job (subprocess.ts:
 * empty environment, heap limit, permission model). A subprocess rather
 * than a worker thread, because V8 handles some out-of-memory failures (a
 * growing WebAssembly table, for one) by aborting the whole process: in a
 * worker thread that is the daemon; here it is only the job. Killing it
 * stops even a busy loop, which is how the runner enforces the wall-time
 * limit. Modules cross as bytes and are compiled in the subprocess.
 */
import process from "node:process";
import type { SandboxBackend, SandboxProcess } from "../core/backend.ts";
import { framedProcess } from "../core/framed-process.ts";
import { exitOf, spawnNode } from "./subprocess.ts";

const CHILD = new URL("./child.ts", import.meta.url);

function spawn(heapMb: number): SandboxProcess {
  const child = spawnNode(CHILD, heapMb);
  const pipes = [child.stdin, child.stdout, child.stderr] as unknown as { ref(): void; unref(): void }[];
  return framedProcess({
    stdout: child.stdout,
    stderr: child.stderr,
    status: exitOf(child),
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
