/**
 * The one interface every run backend implements — WebAssembly (this
 * repository's wasm-runners/), Nix, containers and Kubernetes (bridges) —
 * and the content-addressed run spec they all take.
 *
 * A run gets only what its spec names: input files by CID (read-only), the
 * environment variables listed, and limits on wall time, memory and output
 * bytes that really stop it; no network unless the spec says so. It streams
 * log lines while it runs and ends with a status, an exit code and the
 * output files it wrote, each with its size and sha-256.
 */
import { encode } from "../codec/dag-cbor.ts";
import { type CID, cidOf } from "../codec/cid.ts";
import { bool, int, list, object, optional, required, str } from "../schema/input-checks.ts";

/** Paths inside a run: relative, no `..`, no leading `/`. */
export const RUN_PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._\-/]{1,256}$/;

export const runSpecShape = object({
  /** Which backend: "wasm", "nix", "container", "kubernetes". */
  runner: required(str(1, 32, /^[a-z0-9-]+$/)),
  /** What to run: for wasm, the CID of the component's bytes; for others, the backend's reference. */
  program: required(str(1, 512)),
  /** Arguments given to the program. */
  args: required(list(str(0, 4096), 256)),
  /** Input files, placed read-only at `path` under the inputs directory. */
  inputs: required(list(object({ path: required(str(1, 256, RUN_PATH)), cid: required(str(1, 128)) }), 256)),
  /** Environment variables the run sees; nothing else is passed through. */
  env: required(
    list(object({ name: required(str(1, 128, /^[A-Za-z_][A-Za-z0-9_]*$/)), value: required(str(0, 4096)) }), 128),
  ),
  limits: required(object({
    /** Wall-clock limit; the run is stopped when it passes. */
    wallMs: required(int(1, 7 * 24 * 3600 * 1000)),
    /** Memory limit. */
    memoryMb: required(int(1, 1024 * 1024)),
    /** Total bytes of output files and logs it may produce. */
    outputBytes: required(int(0, 1024 ** 4)),
  })),
  /** Network access; off unless asked for (and the backend can enforce it). */
  network: optional(bool),
  /**
   * Ask for an editor (code-server) on the run's source tree while it runs, reachable only by the task's holder and
   * reviewers through a peer's API. Only the kubernetes runner honours it; every other runner refuses such a spec.
   */
  editor: optional(bool),
  /** The source tree the run builds or works in: a packed tree (source.ts) by CID, and the git commit it came from. */
  source: optional(object({
    cid: required(str(1, 128)),
    commit: optional(str(40, 64, /^[0-9a-f]+$/)),
  })),
});

export type RunSpec = ReturnType<typeof runSpecShape>;

/** A run spec's identity: the CID of its canonical DAG-CBOR encoding. */
export function runSpecCid(spec: RunSpec): CID {
  return cidOf(encode(runSpecShape(spec, "spec")));
}

export type RunStatus = "succeeded" | "failed" | "timeout" | "out-of-memory" | "output-limit" | "stopped" | "error";

export interface LogLine {
  stream: "stdout" | "stderr" | "system";
  /** Unix ms. */
  at: number;
  text: string;
}

export interface OutputFile {
  path: string;
  size: number;
  /** Lowercase hex sha-256 of the content. */
  sha256: string;
  /** CID (raw codec) under which the content store holds it. */
  cid: string;
}

/** Something a run was built from beyond its spec, as its backend resolved it (an in-toto ResourceDescriptor). */
export interface RunMaterial {
  name: string;
  uri?: string;
  /** Algorithm → lowercase hex, e.g. { "nar-sha256": "…" } for a Nix store path. */
  digest?: Record<string, string>;
}

/** How a backend built, for the run's signed provenance (e.g. a Nix derivation and its output hashes). */
export interface BuildRecord {
  materials: RunMaterial[];
  /** The build repeated once on the same node to check it (nix's --check): identical, or the outputs that differed. */
  rebuild?: { identical: boolean; differing: string[] };
}

export interface RunResult {
  status: RunStatus;
  exitCode?: number;
  /** Why the run ended, for people: "exceeded its 2000 ms wall-time limit". */
  reason?: string;
  outputs: OutputFile[];
  /** What the backend resolved and checked, when it reports it. */
  build?: BuildRecord;
  /** Unix ms. */
  startedAt: number;
  endedAt: number;
}

/** Where runs read inputs and keep outputs, by CID. Implemented by the artifact store. */
export interface ContentStore {
  get(cid: string): Promise<Uint8Array | undefined>;
  /** Store bytes; resolves to their CID (raw codec, sha2-256) once durable. */
  put(bytes: Uint8Array): Promise<string>;
}

export interface RunHandle {
  readonly id: string;
  /** Log lines as they are produced (ends when the run ends). */
  readonly logs: AsyncIterable<LogLine>;
  /** The outcome; never rejects (failures are statuses). */
  readonly done: Promise<RunResult>;
  /** Stop the run now (eviction); `done` resolves with status "stopped". */
  stop(reason?: string): Promise<void>;
}

/**
 * Which job of the mesh a run is for, when the scheduler starts it: a backend
 * that hands runs to another system (a Kubernetes Job) names them by it, so
 * a retry of the same job after a restart finds the run already there.
 */
export interface RunJob {
  space: string;
  task: string;
}

export interface Runner {
  /** The `runner` value of the specs it runs. */
  readonly kind: string;
  /** Whether this machine can run it right now (tools present, sandbox usable). */
  available(): Promise<boolean>;
  start(spec: RunSpec, store: ContentStore, job?: RunJob): RunHandle;
  /**
   * This node is claiming a run of `spec` (the claim is being signed and made durable): make the run ready meanwhile
   * — fetch and unpack what it reads, make its limits, start its first process held under them — so that start()
   * has only to let the job go. Nothing of the job runs before start(). Throws as start() would for a spec it refuses.
   */
  prepare?(spec: RunSpec, store: ContentStore, job?: RunJob): PreparedRun;
  /**
   * A packed source (source.ts) `cid` was just stored on this node: a runner that builds from sources may make it
   * ready now, in the background (unpack it into its cache), so that a run of it started later need not. `bytes`:
   * the source itself when the node still has it in memory, already hashed to `cid` as it was stored (else the
   * runner reads it from `store`, checked as a run's reads are). Best effort and bounded by the runner; never
   * throws, and nothing a run relies on (a run reads only trees made from bytes that hash to its source's CID).
   */
  stageSource?(cid: string, store: ContentStore, bytes?: Uint8Array): void;
}

/** A run made ready while its claim is made durable (Runner.prepare). */
export interface PreparedRun {
  /** The claim is durable: let the job run. Its handle (the same one on every call; after cancel(), a stopped run). */
  start(): RunHandle;
  /** The run will not start here (the claim was lost or refused): undo what was made ready. Nothing of the job ran. */
  cancel(reason: string): Promise<void>;
}
