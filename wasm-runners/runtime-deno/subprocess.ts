/**
 * A `deno run` subprocess for untrusted work (a job's sandbox, a component's
 * transpile): an empty environment but for where Deno's module cache is, a
 * V8 heap limit, no prompts and no remote code, and no permissions beyond
 * the reads it is given. Killing it stops even a busy loop; an out-of-memory
 * abort ends it only. Its stdio is the ChildIo core/ speaks frames over.
 */
import type { ChildIo } from "../core/framed-process.ts";

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
  realPathSync(path: URL): string;
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

/** The repository's import map (deno.json), so the child resolves `#protocol/…` with no other config. */
const IMPORT_MAP = new URL("../../deno.json", import.meta.url).href;

export function denoApi(): DenoApi | undefined {
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

/** Start `entry` (a file URL) with a `heapMb` heap and `flags` (such as `--allow-read=…`; no permissions by default). */
export function spawnDeno(entry: URL, heapMb: number, flags: string[] = []): ChildIo {
  const api = denoApi()!;
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
      ...flags,
      entry.href,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: childEnv(api),
  }).spawn();
  return {
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
  };
}
