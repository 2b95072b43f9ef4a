/**
 * The host side of a sandbox that is another OS process (a `node` or
 * `deno run` subprocess): its messages arrive as frames on its stdout, the
 * job leaves as one frame on its stdin, and how it ended is read from its
 * exit status and the tail of its stderr. Whatever the job does to that
 * process — an out-of-memory abort included — ends that process only.
 * Runtime-agnostic: each backend supplies the spawned child as a `ChildIo`.
 */
import type { SandboxExit, SandboxProcess } from "./backend.ts";
import { encodeFrame, FrameDecoder } from "./frames.ts";
import type { SandboxMessage } from "./messages.ts";

/** A spawned child process as the runtime gives it. */
export interface ChildIo {
  stdout: AsyncIterable<Uint8Array>;
  stderr: AsyncIterable<Uint8Array>;
  /** Resolves when it has exited: `success` when with code 0. */
  status: Promise<{ success: boolean; code: number | null; signal: string | null }>;
  /** Write these bytes to its stdin, then close it. */
  writeAndClose(bytes: Uint8Array): void;
  /** SIGKILL it; a no-op if it has ended. */
  kill(): void;
  setKeepAlive(keep: boolean): void;
}

const STDERR_TAIL = 4096;

/** The runtime's own words for an out-of-memory death, from the tail of stderr. */
function reason(stderr: string): string {
  const fatal = /^.*(FATAL ERROR|out of memory|heap limit).*$/im.exec(stderr);
  return (fatal ? fatal[0] : stderr).trim().slice(-512);
}

export function framedProcess(child: ChildIo): SandboxProcess {
  const listeners: ((m: SandboxMessage) => void)[] = [];
  let stderr = "";
  let killed = false;
  const readStderr = (async () => {
    const text = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr = (stderr + text.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  })();
  const readStdout = (async () => {
    const frames = new FrameDecoder();
    for await (const chunk of child.stdout) {
      for (const m of frames.push(chunk)) for (const l of listeners) l(m as SandboxMessage);
    }
  })();
  const exited = child.status.then(async (status): Promise<SandboxExit> => {
    await Promise.allSettled([readStderr, readStdout]);
    if (killed || status.success) return { kind: "exited" };
    const why = `exit code ${status.code}${status.signal ? ` (${status.signal})` : ""}: ${reason(stderr)}`;
    return /out of memory|heap limit/i.test(stderr)
      ? { kind: "out-of-memory", message: why }
      : { kind: "crashed", message: why };
  });
  const ready = new Promise<void>((resolve, reject) => {
    listeners.push((m) => m.type === "ready" && resolve());
    exited.then((exit) => reject(new Error(`the subprocess ended while loading (${exit.kind})`)));
  });
  return {
    ready,
    exited,
    send: (job) => child.writeAndClose(encodeFrame(job)),
    onMessage: (listener) => listeners.push(listener),
    async kill() {
      killed = true;
      // An unref'd child's exit would not keep the event loop alive for the wait below.
      child.setKeepAlive(true);
      child.kill();
      await exited;
    },
    setKeepAlive: (keep) => child.setKeepAlive(keep),
  };
}
