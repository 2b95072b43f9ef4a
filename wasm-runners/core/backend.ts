/**
 * What the runner needs from a runtime to isolate a job: a process (a
 * worker thread, a Web Worker, a subprocess) that loads the sandbox, takes
 * one job, and can be killed at any moment — even mid-instruction in a busy
 * loop. Node, Deno and browser backends implement it in their own folders;
 * the runner core stays free of runtime APIs.
 */
import type { JobMessage, SandboxMessage } from "./messages.ts";

export type SandboxExit =
  /** It ended normally, or was killed by the runner. */
  | { kind: "exited" }
  /** The runtime stopped it for exceeding its heap limit. */
  | { kind: "out-of-memory"; message: string }
  /** It died for another reason. */
  | { kind: "crashed"; message: string };

export interface SandboxProcess {
  /** Resolves once it has loaded the sandbox and can take a job; rejects if it dies first. */
  readonly ready: Promise<void>;
  /** Resolves when it has ended, however that happened. */
  readonly exited: Promise<SandboxExit>;
  send(job: JobMessage): void;
  onMessage(listener: (message: SandboxMessage) => void): void;
  /** Stop it now; resolves once it has stopped. Safe to call more than once. */
  kill(): Promise<void>;
  /** Whether an idle process may keep the host alive. */
  setKeepAlive(keep: boolean): void;
}

export interface SandboxBackend {
  /** For logs and reasons, e.g. "node subprocess". */
  readonly name: string;
  /** Whether compiled WebAssembly.Module objects can be sent, or only bytes (another OS process). */
  readonly sendsCompiledModules: boolean;
  /** Whether this runtime can run sandboxes now. */
  available(): Promise<boolean>;
  /** Start a sandbox process whose JS heap is limited to about `heapMb` (where the runtime can limit it). */
  spawn(heapMb: number): SandboxProcess;
}
