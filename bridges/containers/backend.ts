/**
 * What an isolation backend (bubblewrap or podman) does for one job, and
 * what the job looks like to it. The run (run.ts) owns everything the
 * backends share — inputs and outputs on disk, log lines, the output bound,
 * wall time, statuses — and asks the backend only to wrap the job's command,
 * signal it, say whether a limit killed it, and clean up.
 */
import type { ContentStore } from "#protocol/runner";
import type { HeldProcess, RLimits } from "../../peer/process/held-process.ts";
import type { Isolation } from "./config.ts";

export interface JobPlan {
  id: string;
  /** Image digest, `sha256:<hex>` of its OCI archive. */
  image: string;
  /** The command; empty means the image's entrypoint and command. */
  argv: string[];
  env: [string, string][];
  /** Host directories bound at /inputs (read-only), /outputs and, when there is one, /src. */
  inputs: string;
  outputs: string;
  src?: string;
  /** A host directory bound at PORTS_DIR, where the job serves its ports as Unix sockets (RunOptions.ports). */
  ports?: string;
  network: boolean;
  memoryMb: number;
  /** Largest file the job may write (RLIMIT_FSIZE). */
  fileBytes: number;
}

/**
 * Where a job serves a port without any network: the Unix socket `<PORTS_DIR>/<port>`. A Weft virtual node's
 * port-forward (the kubelet API) reaches a pod's port there, so a pod cut off from every network is still reachable
 * by whoever the API server lets forward to it.
 */
export const PORTS_DIR = "/run/weft/ports";

export interface Sandbox {
  /** What to run on the host; its stdout and stderr are the job's. */
  command: string;
  args: string[];
  /**
   * `cgroup.procs` files the job's first process is moved into, and rlimits it is put under, before it may exec
   * `command` (run.ts holds it until then: peer/process/held-process.ts).
   */
  cgroupProcs: readonly string[];
  /**
   * The job's first process already started, held and in its cgroups (a spare, HOLD_THEN_SOURCE): the run writes
   * `command` and `args` as its start script and lets it go with that, and `cgroupProcs` is empty.
   */
  held?: HeldProcess;
  rlimits?: RLimits;
  env?: NodeJS.ProcessEnv;
  /** The directory it is started in (podman's conmon leaves files in it). */
  cwd?: string;
  /** Signal every process of the job. */
  signal(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** After the job ended: whether its memory limit or process limit stopped it. */
  limitsHit(): Promise<{ memory: boolean; pids: boolean }>;
  /** Kill what is left and free the job's resources; idempotent. */
  dispose(): Promise<void>;
}

export interface IsolationBackend {
  readonly name: Isolation;
  /** Make the job's sandbox: the image ready, limits in place, the command wrapped. */
  prepare(plan: JobPlan, store: ContentStore): Promise<Sandbox>;
  close(): Promise<void>;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The image's environment under the spec's (the spec wins), with a PATH if neither gives one. */
export function jobEnv(imageEnv: string[], plan: JobPlan): [string, string][] {
  const env = new Map<string, string>([["PATH", DEFAULT_PATH]]);
  for (const e of imageEnv) {
    const i = e.indexOf("=");
    if (i <= 0) continue;
    env.set(e.slice(0, i), e.slice(i + 1));
  }
  for (const [k, v] of plan.env) env.set(k, v);
  return [...env];
}
