/**
 * Recording a run: the runner node signs an invocation of
 * /weft/run/<runner> on the space (args: the task and the run spec's CID,
 * issued at the run's start, proofs: its delegation chain), signs the
 * in-toto provenance statement in a DSSE envelope with the same key, and
 * wraps both with the outputs and the run's log in a manifest block.
 */
import { utf8 } from "../bytes.ts";
import type { Signer } from "../identity/ed25519.ts";
import { type RunResult, type RunSpec, runSpecCid } from "../runner/runner.ts";
import type { Delegation } from "../ucan/delegation.ts";
import { invoke } from "../ucan/invocation.ts";
import { IN_TOTO_PAYLOAD_TYPE, signDsse } from "./dsse.ts";
import {
  encodeManifest,
  type Manifest,
  MANIFEST_TYPE,
  manifestCid,
  type ManifestOutput,
  type RunLogFile,
} from "./manifest.ts";
import { runStatement } from "./statement.ts";

/** The command that authorizes runs of one runner kind. */
export function runCommand(kind: string): string {
  return `/weft/run/${kind}`;
}

export interface RunRecord {
  space: string;
  task: string;
  spec: RunSpec;
  result: RunResult;
  /** The result's outputs with their media types and where they are stored, in the result's order. */
  outputs: ManifestOutput[];
  /** The run's log (run-log.ts) as stored: the statement's subject when there are no outputs. */
  log: RunLogFile;
}

export interface BuiltManifest {
  manifest: Manifest;
  bytes: Uint8Array;
  cid: string;
}

/**
 * Build and sign the manifest of a run. `chain` is the runner's delegation
 * chain (root first) for /weft/run/<spec.runner> in the space.
 */
export async function buildManifest(
  signer: Signer,
  chain: readonly Delegation[],
  run: RunRecord,
): Promise<BuiltManifest> {
  const spec = runSpecCid(run.spec).toString();
  const { startedAt, endedAt, status, exitCode, build } = run.result;
  const invocation = await invoke({
    issuer: signer,
    subject: run.space,
    command: runCommand(run.spec.runner),
    args: { task: run.task, spec },
    proofs: chain,
    expiration: null,
    issuedAt: Math.floor(startedAt / 1000),
  });
  const statement = runStatement({
    space: run.space,
    task: run.task,
    spec: run.spec,
    builder: signer.did,
    invocation: invocation.cid.toString(),
    startedAt,
    endedAt,
    status,
    ...(exitCode !== undefined ? { exitCode } : {}),
    outputs: run.outputs,
    log: run.log,
    ...(build ? { build } : {}),
  });
  const manifest: Manifest = {
    type: MANIFEST_TYPE,
    space: run.space,
    task: run.task,
    spec,
    runner: { did: signer.did, kind: run.spec.runner },
    status,
    ...(exitCode !== undefined ? { exitCode } : {}),
    startedAt,
    endedAt,
    outputs: run.outputs,
    log: run.log,
    ...(build ? { build } : {}),
    capability: { invocation: invocation.bytes, proofs: chain.map((d) => d.bytes) },
    provenance: await signDsse(signer, IN_TOTO_PAYLOAD_TYPE, utf8(JSON.stringify(statement))),
  };
  const bytes = encodeManifest(manifest);
  return { manifest, bytes, cid: manifestCid(bytes).toString() };
}
