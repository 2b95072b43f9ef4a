/**
 * Sandbox processes on Deno: one `deno run` subprocess per job, started with
 * no permissions (no files, no network, no environment), an empty
 * environment and a V8 heap limit; messages travel as frames over its
 * stdin and stdout. A subprocess rather than a Worker because
 * Worker.terminate() in Deno does not stop a busy loop, while killing a
 * process does. Modules cross as bytes and are compiled in the subprocess.
 */
import type { SandboxBackend, SandboxProcess } from "../core/backend.ts";
import { framedProcess } from "../core/framed-process.ts";

interface DenoChild {
  stdin: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ success: boolean; code: number; signal: string | null }>;
  kill(signal?: string): void;
  ref(): void;
  unref(): void;
}

interface DenoApi {
  execPath(): string;
  env: { get(name: string): string | undefined };
  Command: new (command: string, options: {
    args: string[];
    stdin: "piped";
    stdout: "piped";
    stderr: "piped";
    clearEnv: boolean;
    env: Record<string, string>;
  }) => { spawn(): DenoChild };
}

const CHILD = new URL("./child.ts", import.meta.url).href;
/** The repository's import map (deno.json), so the child resolves `#protocol/…` with no other config. */
const IMPORT_MAP = new URL("../../deno.json", import.meta.url).href;

function deno(): DenoApi | undefined {
  return (globalThis as unknown as { Deno?: DenoApi }).Deno;
}

/** Where the subprocess finds Deno's module cache: the only variables it gets. */
function childEnv(api: DenoApi): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["DENO_DIR", "HOME", "XDG_CACHE_HOME"]) {
    const value = api.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function spawn(heapMb: number): SandboxProcess {
  const api = deno()!;
  const child = new api.Command(api.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--no-config",
      `--import-map=${IMPORT_MAP}`,
      "--no-lock",
      "--no-remote",
      "--quiet",
      `--v8-flags=--max-old-space-size=${heapMb}`,
      CHILD,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: childEnv(api),
  }).spawn();
  return framedProcess({
    stdout: child.stdout,
    stderr: child.stderr,
    status: child.status,
    writeAndClose(bytes) {
      const writer = child.stdin.getWriter();
      writer.write(bytes).then(() => writer.close()).catch(() => {});
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // it had already ended
      }
    },
    setKeepAlive: (keep) => (keep ? child.ref() : child.unref()),
  });
}

export function denoSubprocessBackend(): SandboxBackend {
  return {
    name: "deno subprocess",
    sendsCompiledModules: false,
    available: () => Promise.resolve(typeof deno()?.Command === "function"),
    spawn,
  };
}
