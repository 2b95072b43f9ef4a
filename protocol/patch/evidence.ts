/**
 * A merge's evidence: the signed manifests of the runs that pass its
 * checks, carried in the merge operation itself so that every node judges
 * the merge from the log alone, the same way. Each manifest is verified
 * once, when the operation enters the log (verify.ts: its block, the
 * runner's DSSE-signed provenance, and that the runner held
 * /weft/run/<kind> in the space when the run started), and boiled down to
 * the facts the reducer needs. Revocations are left to the log's causal
 * judgement and the runner's whole chain must travel in the manifest, so
 * the verdict depends on the bytes alone — never on what one node happens
 * to know.
 */
import { cidKey } from "../codec/cid.ts";
import type { Verifier } from "../identity/ed25519.ts";
import type { RunStatus } from "../runner/runner.ts";
import type { Validator } from "../ucan/validator.ts";
import { ArtifactError } from "../artifacts/errors.ts";
import { manifestCid } from "../artifacts/manifest.ts";
import { verifyManifest } from "../artifacts/verify.ts";
import { decodeDelegation } from "../ucan/delegation.ts";

/** What a verified run manifest proves: a run of `spec` for `task`, by `runner`, that ended `status`. */
export interface RunEvidence {
  /** The manifest's CID (the one a task result names). */
  manifest: string;
  space: string;
  task: string;
  /** The run spec's CID, and what it ran. */
  spec: string;
  program: string;
  /** The commit the run's source tree came from, if it ran on one. */
  commit?: string;
  runner: { did: string; kind: string };
  status: RunStatus;
  endedAt: number;
}

export interface EvidenceOptions {
  validator: Validator;
  verifier?: Verifier;
}

/**
 * Verify one manifest carried by a merge dated `atMs`; throws ArtifactError
 * saying what does not verify.
 */
export async function verifyEvidence(bytes: Uint8Array, atMs: number, options: EvidenceOptions): Promise<RunEvidence> {
  const cid = manifestCid(bytes).toString();
  const verified = await verifyManifest(cid, bytes, {
    validator: options.validator,
    ...(options.verifier ? { verifier: options.verifier } : {}),
    now: atMs,
    ignoreRevocations: true,
  });
  const carried = new Set(verified.manifest.capability.proofs.map((p) => cidKey(decodeDelegation(p).cid)));
  for (const d of verified.chain) {
    if (!carried.has(cidKey(d.cid))) {
      throw new ArtifactError(
        "artifact/unauthorized",
        `the manifest ${cid} does not carry its runner's delegation ${d.cid}: evidence must carry the whole chain`,
      );
    }
  }
  const { manifest } = verified;
  const spec = verified.statement.predicate.buildDefinition.externalParameters.spec;
  return {
    manifest: cid,
    space: manifest.space,
    task: manifest.task,
    spec: manifest.spec,
    program: spec.program,
    ...(spec.source?.commit !== undefined ? { commit: spec.source.commit } : {}),
    runner: { ...manifest.runner },
    status: manifest.status,
    endedAt: manifest.endedAt,
  };
}
