/**
 * Sandbox processes on Deno: one `deno run` subprocess per job, started with
 * no permissions (no files, no network, no environment), an empty
 * environment and a V8 heap limit; messages travel as frames over its
 * stdin and stdout. A subprocess rather than a Worker because
 * Worker.terminate() in Deno does not stop a busy loop, while killing a
 * process does. Modules cross as bytes and are compiled in the subprocess.
 */
import type { SandboxBackend } from "../core/backend.ts";
import { framedProcess } from "../core/framed-process.ts";
import { denoApi, spawnDeno } from "./subprocess.ts";

const CHILD = new URL("./child.ts", import.meta.url);

export function denoSubprocessBackend(): SandboxBackend {
  return {
    name: "deno subprocess",
    sendsCompiledModules: false,
    available: () => Promise.resolve(typeof denoApi()?.Command === "function"),
    spawn: (heapMb) => framedProcess(spawnDeno(CHILD, heapMb)),
  };
}
