/**
 * Transpiling a component in a `node` subprocess (transpile-child.ts), for
 * the peer: jco's first transpile in a process loads and compiles jco
 * itself (~0.6 s that would stall the daemon's event loop), and its parser
 * takes bytes anyone could have sent, which must not be able to exhaust
 * the daemon's heap. Each component is transpiled once and then cached by
 * CID, so the process's start-up cost is paid once per program.
 */
import { errorCodeOf, WeftError } from "#protocol";
import { encodeFrame, FrameDecoder } from "../core/frames.ts";
import type { Transpiled, TranspileFn } from "../core/transpile.ts";
import { exitOf, spawnNode } from "./subprocess.ts";

const CHILD = new URL("./transpile-child.ts", import.meta.url);

export interface TranspileProcessOptions {
  /** Heap limit of the subprocess in MB (default 512). */
  heapMb?: number;
  /** It is killed after this long (default 120 s). */
  timeoutMs?: number;
}

type Reply = { transpiled: Transpiled } | { error: { code: string; message: string } };

export function subprocessTranspile(options: TranspileProcessOptions = {}): TranspileFn {
  const heapMb = options.heapMb ?? 512;
  const timeoutMs = options.timeoutMs ?? 120_000;
  return async (cid, bytes) => {
    // jco's bindings load preview2-shim's Node build, which starts a worker thread for its blocking calls.
    const child = spawnNode(CHILD, heapMb, true);
    const exited = exitOf(child);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2048)));
    child.stdin.end(encodeFrame({ cid, bytes }));
    const decoder = new FrameDecoder();
    let reply: Reply | undefined;
    for await (const chunk of child.stdout) reply ??= decoder.push(chunk)[0] as Reply | undefined;
    const status = await exited;
    clearTimeout(timer);
    if (reply && "transpiled" in reply) return reply.transpiled;
    if (reply) throw new WeftError("RunnerError", errorCodeOf(reply.error.code, "wasm/transpile"), reply.error.message);
    const why = status.signal === "SIGKILL"
      ? `took longer than ${timeoutMs} ms`
      : /out of memory/i.test(stderr)
      ? `ran out of its ${heapMb} MB heap`
      : `ended with ${status.signal ?? `exit code ${status.code}`}: ${stderr.trim().slice(-512)}`;
    throw new WeftError(
      "RunnerError",
      "wasm/not-a-job",
      `program ${cid} could not be transpiled: the transpiler ${why}; is it a WASI 0.2 command component?`,
    );
  };
}
