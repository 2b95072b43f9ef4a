/**
 * Verifying a manifest, offline: the block hashes to its CID; the DSSE
 * envelope is signed by the runner named in it; the signed statement is
 * exactly the one the manifest implies (outputs, log, spec, task, space,
 * runner, invocation, timings, outcome); and the runner held the run
 * capability in the space when the run started — its invocation of
 * /weft/run/<kind>, with the delegation chain carried in the manifest,
 * passes the space's validator (signatures, time bounds at the start,
 * commands, policies and the space's revocations). Then each output's
 * (and the log's) bytes, wherever they are fetched from, must match its
 * size and sha-256.
 */
import type { CID } from "multiformats/cid";
import { fromUtf8 } from "../bytes.ts";
import { defaultVerifier, type Verifier } from "../identity/ed25519.ts";
import { type RunSpec, runSpecCid, runSpecShape } from "../runner/runner.ts";
import { decodeDelegation } from "../ucan/delegation.ts";
import { decodeInvocation, type Invocation } from "../ucan/invocation.ts";
import { MemoryProofStore } from "../ucan/stores.ts";
import type { Validator } from "../ucan/validator.ts";
import type { Delegation } from "../ucan/delegation.ts";
import { isWeftError } from "../errors.ts";
import { runCommand } from "./build.ts";
import { portableSha256, type Sha256Factory } from "./digest.ts";
import { IN_TOTO_PAYLOAD_TYPE, verifyDsse } from "./dsse.ts";
import { ArtifactError } from "./errors.ts";
import { decodeManifest, type Manifest, manifestCid, type ManifestOutput } from "./manifest.ts";
import { runStatement, sameJson, type Statement } from "./statement.ts";

/** How far in the future a run may claim to have ended (clock skew between nodes). */
const MAX_SKEW_MS = 5 * 60 * 1000;

export interface VerifyOptions {
  /** The space's validator: its known delegations and revocations. */
  validator: Validator;
  verifier?: Verifier;
  /** Unix ms (injected for tests). */
  now?: number;
  /**
   * Judge the runner's chain without the space's revocations: for a verdict
   * every node must reach alike from the bytes alone (a patch merge's
   * evidence), where revocation is judged causally by the operation log.
   */
  ignoreRevocations?: boolean;
}

export interface VerifiedManifest {
  cid: string;
  manifest: Manifest;
  statement: Statement;
  invocation: Invocation;
  /** The runner's chain, root first. */
  chain: readonly Delegation[];
}

/** Check a manifest block fetched by `cid` (see the module comment); throws ArtifactError naming what failed. */
export async function verifyManifest(
  cid: CID | string,
  bytes: Uint8Array,
  options: VerifyOptions,
): Promise<VerifiedManifest> {
  const actual = manifestCid(bytes).toString();
  if (actual !== cid.toString()) {
    throw new ArtifactError("artifact/tampered", `the manifest block hashes to ${actual}, not ${cid}`);
  }
  const manifest = decodeManifest(bytes);
  const verifier = options.verifier ?? (await defaultVerifier());
  const { payload } = await verifyDsse(manifest.provenance, {
    keys: [manifest.runner.did],
    payloadTypes: [IN_TOTO_PAYLOAD_TYPE],
    verifier,
  });
  const statement = parseStatement(payload);
  const spec = signedSpec(statement);
  if (runSpecCid(spec).toString() !== manifest.spec) {
    throw new ArtifactError(
      "artifact/tampered",
      `the signed run spec has CID ${runSpecCid(spec)}, not ${manifest.spec}`,
    );
  }
  const invocation = runInvocation(manifest);
  const expected = runStatement({
    space: manifest.space,
    task: manifest.task,
    spec,
    builder: manifest.runner.did,
    invocation: invocation.cid.toString(),
    startedAt: manifest.startedAt,
    endedAt: manifest.endedAt,
    status: manifest.status,
    ...(manifest.exitCode !== undefined ? { exitCode: manifest.exitCode } : {}),
    outputs: manifest.outputs,
    ...(manifest.log ? { log: manifest.log } : {}),
    ...(manifest.build ? { build: manifest.build } : {}),
  });
  if (!sameJson(expected, statement)) {
    throw new ArtifactError(
      "artifact/tampered",
      "the manifest does not match its signed provenance statement (outputs, digests, task, timings or outcome differ)",
    );
  }
  const now = options.now ?? Date.now();
  if (manifest.endedAt > now + MAX_SKEW_MS) {
    throw new ArtifactError(
      "artifact/tampered",
      `the run claims to end at ${new Date(manifest.endedAt).toISOString()}, in the future`,
    );
  }
  const chain = await authorize(manifest, invocation, options.validator, options.ignoreRevocations ?? false);
  return { cid: actual, manifest, statement, invocation, chain };
}

function parseStatement(payload: Uint8Array): Statement {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(payload));
  } catch {
    throw new ArtifactError("artifact/tampered", "the signed provenance payload is not JSON");
  }
  return value as Statement;
}

function signedSpec(statement: Statement): RunSpec {
  try {
    return runSpecShape(statement?.predicate?.buildDefinition?.externalParameters?.spec, "spec");
  } catch (e) {
    throw new ArtifactError("artifact/tampered", `the signed statement has no valid run spec: ${(e as Error).message}`);
  }
}

/** The invocation in the manifest, checked against the manifest's own claims. */
function runInvocation(manifest: Manifest): Invocation {
  let inv: Invocation;
  try {
    inv = decodeInvocation(manifest.capability.invocation);
  } catch (e) {
    throw new ArtifactError("artifact/unauthorized", `the run invocation is malformed: ${(e as Error).message}`);
  }
  const want = runCommand(manifest.runner.kind);
  const problems = [
    inv.iss !== manifest.runner.did && `is issued by ${inv.iss}, not the runner ${manifest.runner.did}`,
    inv.sub !== manifest.space && `is about ${inv.sub}, not the space ${manifest.space}`,
    inv.cmd !== want && `invokes ${inv.cmd}, not ${want}`,
    !sameJson(inv.args, { task: manifest.task, spec: manifest.spec }) && "names another task or run spec",
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new ArtifactError("artifact/unauthorized", `the run invocation ${problems.join("; ")}`);
  }
  return inv;
}

/** The runner held /weft/run/<kind> in the space when the run started. */
async function authorize(
  manifest: Manifest,
  inv: Invocation,
  validator: Validator,
  ignoreRevocations: boolean,
): Promise<readonly Delegation[]> {
  const proofs = new MemoryProofStore();
  try {
    for (const bytes of manifest.capability.proofs) proofs.put(decodeDelegation(bytes));
    const now = Math.floor(manifest.startedAt / 1000);
    const { proofs: chain } = await validator.validate(inv, { proofs, now, ignoreRevocations });
    return chain;
  } catch (e) {
    if (!isWeftError(e)) throw e;
    throw new ArtifactError(
      "artifact/unauthorized",
      `${manifest.runner.did} did not hold ${inv.cmd} in ${manifest.space} when the run started: ${e.message}`,
      { cause: e },
    );
  }
}

/**
 * Stream an output's bytes through sha-256 and check them against the
 * manifest; resolves once every byte matched, throws digest-mismatch otherwise.
 */
export async function verifyOutput(
  output: Pick<ManifestOutput, "path" | "size" | "sha256">,
  chunks: AsyncIterable<Uint8Array>,
  hasher: Sha256Factory = portableSha256,
): Promise<void> {
  const h = hasher();
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > output.size) {
      throw new ArtifactError(
        "artifact/digest-mismatch",
        `${output.path}: more than the recorded ${output.size} bytes`,
      );
    }
    h.update(chunk);
  }
  if (size !== output.size) {
    throw new ArtifactError(
      "artifact/digest-mismatch",
      `${output.path}: ${size} bytes, the manifest records ${output.size}`,
    );
  }
  const sha256 = h.hex();
  if (sha256 !== output.sha256) {
    throw new ArtifactError(
      "artifact/digest-mismatch",
      `${output.path}: sha-256 ${sha256}, the manifest records ${output.sha256}`,
    );
  }
}
