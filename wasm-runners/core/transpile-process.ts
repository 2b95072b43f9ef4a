/**
 * Transpiling a component in another OS process, on any runtime: jco's first
 * transpile in a process loads and compiles jco itself (~0.6 s that would
 * stall the peer's event loop), and its parser takes bytes anyone could have
 * sent, which must not be able to exhaust the peer's heap or hang it. The
 * parent sends one frame `{ cid, bytes }`, the child (`serveTranspile`)
 * answers one frame `{ transpiled }` or `{ error }` and exits; a child that
 * runs out of heap or time is killed and the program refused. Each runtime
 * supplies the spawned child (runtime-node/, runtime-deno/).
 */
import { errorCodeOf, isWeftError, WeftError } from "#protocol";
import type { ChildIo } from "./framed-process.ts";
import { encodeFrame, FrameDecoder } from "./frames.ts";
import { transpileComponent, type Transpiled, type TranspileFn } from "./transpile.ts";

export interface TranspileProcessOptions {
  /** Heap limit of the subprocess in MB (default 512). */
  heapMb?: number;
  /** It is killed after this long (default 120 s). */
  timeoutMs?: number;
}

type Reply = { transpiled: Transpiled } | { error: { code: string; message: string } };

const STDERR_TAIL = 2048;

/** A TranspileFn that transpiles each component in a fresh child from `spawn(heapMb)`. */
export function transpileInChild(
  spawn: (heapMb: number) => ChildIo,
  options: TranspileProcessOptions = {},
): TranspileFn {
  const heapMb = options.heapMb ?? 512;
  const timeoutMs = options.timeoutMs ?? 120_000;
  return async (cid, bytes) => {
    const child = spawn(heapMb);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
    }, timeoutMs);
    let stderr = "";
    const text = new TextDecoder();
    const readStderr = (async () => {
      for await (const chunk of child.stderr) {
        stderr = (stderr + text.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
      }
    })();
    child.writeAndClose(encodeFrame({ cid, bytes }));
    const decoder = new FrameDecoder();
    let reply: Reply | undefined;
    for await (const chunk of child.stdout) reply ??= decoder.push(chunk)[0] as Reply | undefined;
    const status = await child.status;
    await readStderr;
    clearTimeout(timer);
    if (reply && "transpiled" in reply) return reply.transpiled;
    if (reply) throw new WeftError("RunnerError", errorCodeOf(reply.error.code, "wasm/transpile"), reply.error.message);
    const why = timedOut
      ? `took longer than ${timeoutMs} ms`
      : /out of memory|heap limit/i.test(stderr)
      ? `ran out of its ${heapMb} MB heap`
      : `ended with ${status.signal ?? `exit code ${status.code}`}: ${stderr.trim().slice(-512)}`;
    throw new WeftError(
      "RunnerError",
      "wasm/not-a-job",
      `program ${cid} could not be transpiled: the transpiler ${why}; is it a WASI 0.2 command component?`,
    );
  };
}

/** The child's side: read one request frame from `stdin`, transpile it, write the reply with `write`. */
export async function serveTranspile(
  stdin: AsyncIterable<Uint8Array>,
  write: (bytes: Uint8Array) => void,
): Promise<void> {
  const decoder = new FrameDecoder();
  for await (const chunk of stdin) {
    const [request] = decoder.push(chunk) as { cid: string; bytes: Uint8Array }[];
    if (request === undefined) continue;
    let reply: Reply;
    try {
      reply = { transpiled: await transpileComponent(request.cid, request.bytes) };
    } catch (e) {
      reply = { error: { code: isWeftError(e) ? e.code : "wasm/transpile", message: (e as Error).message } };
    }
    write(encodeFrame(reply));
    return;
  }
}
