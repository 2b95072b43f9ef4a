/**
 * What the runner (host side) and a sandbox process say to each other. The
 * host sends one job; the sandbox answers "ready" once loaded, streams log
 * lines while the job runs, and ends with "done". Same messages over
 * worker postMessage (Node, browser) and framed stdio (Deno subprocess).
 */
import type { MemoryCap } from "./memory-cap.ts";

export interface JobMessage {
  type: "job";
  /** The jco-transpiled component: a function body returning `instantiate` (see transpile.ts). */
  glue: string;
  /** Its core modules by the names the glue asks for: compiled when the process shares ours, else bytes. */
  modules: [string, WebAssembly.Module | Uint8Array][];
  /** Each module's capped memories, to tell running out of memory from other traps. */
  memories: [string, MemoryCap[]][];
  /** The job's argv, program name first. */
  args: string[];
  env: [string, string][];
  /** Input files by path under /inputs. */
  inputs: [string, Uint8Array][];
  /** Limit on output file bytes plus log bytes. */
  outputBytes: number;
  /** What the wall clock reads, in seconds since the epoch (it does not move). */
  wallClockSeconds: number;
}

export type Outcome =
  | { kind: "exit"; code: number }
  | { kind: "trap"; message: string; outOfMemory: boolean }
  | { kind: "output-limit"; message: string }
  | { kind: "error"; message: string };

export type SandboxMessage =
  | { type: "ready" }
  | { type: "log"; stream: "stdout" | "stderr"; text: string; at: number }
  | {
    type: "done";
    outcome: Outcome;
    /** Regular files left under /outputs. */
    outputs: [string, Uint8Array][];
    /** Entries under /outputs that are not outputs, and why. */
    skipped: string[];
  };
