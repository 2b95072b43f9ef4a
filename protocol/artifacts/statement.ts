/**
 * The provenance of a run as an in-toto Statement v1 with a SLSA
 * Provenance v1 predicate: the subjects are the run's outputs (name = path,
 * digest = sha-256) and its log (run-log.ts), so even a run that wrote no
 * file has the one subject in-toto requires; the build definition is the run spec and its inputs,
 * the run details name the runner node (its did:key is the builder id), the
 * UCAN invocation that authorized the run (invocationId) and its timings.
 *
 * Building is deterministic, so a verifier rebuilds the statement from a
 * manifest and compares it with the signed one instead of trusting either.
 */
import { CID } from "multiformats/cid";
import { toBase64, toHex, utf8 } from "../bytes.ts";
import { RAW, SHA2_256 } from "../codec/cid.ts";
import type { BuildRecord, RunSpec, RunStatus } from "../runner/runner.ts";
import { RUN_LOG_SUBJECT } from "./run-log.ts";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** What a Weft run is, as a SLSA build type (see protocol/artifacts/README.md). */
export const WEFT_RUN_BUILD_TYPE = "https://weft.dev/buildtypes/run/v1";

/** An in-toto ResourceDescriptor (the subset Weft writes). */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  /** Base64 of the resource's bytes, for small inline resources. */
  content?: string;
}

export interface RunProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: { space: string; task: string; spec: RunSpec };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
    byproducts: ResourceDescriptor[];
  };
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: RunProvenance;
}

export interface StatementInput {
  space: string;
  task: string;
  spec: RunSpec;
  /** The runner node's DID. */
  builder: string;
  /** CID (string) of the UCAN invocation of /weft/run/<runner> that authorized the run. */
  invocation: string;
  startedAt: number;
  endedAt: number;
  status: RunStatus;
  exitCode?: number;
  outputs: ReadonlyArray<{ path: string; sha256: string; mediaType: string }>;
  /** The run's log file (absent only when rebuilding the statement of a manifest made before logs were kept). */
  log?: { sha256: string; mediaType: string };
  /** What the backend resolved (e.g. a Nix derivation and output hashes) and its rebuild check, when it reports them. */
  build?: BuildRecord;
}

/** A dependency named by a CID: its sha-256 when the CID names raw bytes by sha2-256. */
function dependency(name: string, ref: string): ResourceDescriptor | undefined {
  let cid: CID;
  try {
    cid = CID.parse(ref);
  } catch {
    return undefined; // not content-addressed (e.g. a backend's own reference); it stays in the spec
  }
  const raw = cid.version === 1 && cid.code === RAW && cid.multihash.code === SHA2_256;
  return { name, uri: `ipfs://${cid.toString()}`, ...(raw ? { digest: { sha256: toHex(cid.multihash.digest) } } : {}) };
}

export function runStatement(input: StatementInput): Statement {
  const source = input.spec.source && dependency("source", input.spec.source.cid);
  if (source && input.spec.source?.commit) source.digest = { ...source.digest, gitCommit: input.spec.source.commit };
  const deps = [
    dependency("program", input.spec.program),
    ...input.spec.inputs.map((i) => dependency(`inputs/${i.path}`, i.cid)),
    source,
    ...(input.build?.materials ?? []),
  ].filter((d): d is ResourceDescriptor => d !== undefined);
  const result = {
    status: input.status,
    ...(input.exitCode !== undefined ? { exitCode: input.exitCode } : {}),
    ...(input.build?.rebuild ? { rebuild: input.build.rebuild } : {}),
  };
  return {
    _type: STATEMENT_TYPE,
    subject: [
      ...input.outputs.map((o) => ({ name: o.path, digest: { sha256: o.sha256 }, mediaType: o.mediaType })),
      ...(input.log
        ? [{ name: RUN_LOG_SUBJECT, digest: { sha256: input.log.sha256 }, mediaType: input.log.mediaType }]
        : []),
    ],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: WEFT_RUN_BUILD_TYPE,
        externalParameters: { space: input.space, task: input.task, spec: input.spec },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: input.builder },
        metadata: {
          invocationId: input.invocation,
          startedOn: new Date(input.startedAt).toISOString(),
          finishedOn: new Date(input.endedAt).toISOString(),
        },
        byproducts: [{
          name: "result",
          mediaType: "application/json",
          content: toBase64(utf8(JSON.stringify(result))),
        }],
      },
    },
  };
}

/** Structural equality of two JSON values (object key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && sameJson((a as Record<string, unknown>)[k], rb[k]));
}
