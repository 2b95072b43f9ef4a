/**
 * The artifact manifest: one dag-json block per run, naming every output
 * (path, size, sha-256, raw CID, media type, where it is stored) and the
 * run's log (the same, without a path; see run-log.ts), the run
 * spec's CID, the task, the runner, its timings, the UCAN invocation (with
 * its delegation chain) that authorized the run, and the DSSE envelope of
 * its signed provenance statement. Peers exchange it by CID; the task's
 * result operation records that CID.
 *
 * Everything in a manifest except `locations` is covered by the runner's
 * signature (see verify.ts); locations are hints, checked by the digests of
 * the bytes fetched from them.
 */
import * as dagJson from "@ipld/dag-json";
import { CID } from "multiformats/cid";
import { cidOf, DAG_JSON } from "../codec/cid.ts";
import { isDidKey } from "../identity/did-key.ts";
import { RUN_PATH, type RunStatus } from "../runner/runner.ts";
import {
  type Check,
  check,
  int,
  InvalidInput,
  list,
  object,
  oneOf,
  optional,
  required,
  str,
} from "../schema/input-checks.ts";
import { TASK_ID } from "../tasks/ops.ts";
import { type DsseEnvelope, dsseEnvelopeShape } from "./dsse.ts";
import { rawCid, SHA256_HEX } from "./digest.ts";
import { ArtifactError } from "./errors.ts";
import { RUN_LOG_SUBJECT } from "./run-log.ts";

export const MANIFEST_TYPE = "weft/artifact-manifest@1";
/** Manifests travel as single blobs between members (one sync frame each), kept small enough to fetch and verify at once. */
export const MAX_MANIFEST_BYTES = 2 * 1024 * 1024;
export const MAX_OUTPUTS = 4096;

export interface S3Location {
  store: "s3";
  bucket: string;
  key: string;
}

/** In the local content-addressed store of the node `node`, reachable through its API. */
export interface LocalLocation {
  store: "local";
  node: string;
}

export type Location = S3Location | LocalLocation;

export interface ManifestOutput {
  path: string;
  size: number;
  sha256: string;
  /** The raw-codec CIDv1 of the content (the same sha-256). */
  cid: string;
  mediaType: string;
  locations: Location[];
}

/** The run's log as stored: an output without a path. */
export type RunLogFile = Omit<ManifestOutput, "path">;

export interface Manifest {
  type: typeof MANIFEST_TYPE;
  space: string;
  task: string;
  /** CID of the run spec (its canonical DAG-CBOR). */
  spec: string;
  runner: { did: string; kind: string };
  status: RunStatus;
  exitCode?: number;
  /** Unix ms. */
  startedAt: number;
  endedAt: number;
  outputs: ManifestOutput[];
  /** The run's log file. Absent only in manifests made before logs were kept, which may then attest nothing. */
  log?: RunLogFile;
  /** The invocation of /weft/run/<kind> on the space, and its delegation chain, root first. */
  capability: { invocation: Uint8Array; proofs: Uint8Array[] };
  /** DSSE envelope of the in-toto statement (see statement.ts). */
  provenance: DsseEnvelope;
}

export const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const did: Check<string> = check((v, field) => {
  if (!isDidKey(v)) throw new InvalidInput(field, "must be an Ed25519 did:key");
  return v as string;
}, { type: "string", pattern: "^did:key:z" });

const cidText: Check<string> = check((v, field) => {
  if (typeof v !== "string" || v.length > 128) throw new InvalidInput(field, "must be a CID");
  try {
    CID.parse(v);
  } catch {
    throw new InvalidInput(field, "must be a CID");
  }
  return v;
}, { type: "string", maxLength: 128 });

const bytes = (max: number): Check<Uint8Array> =>
  check((v, field) => {
    if (!(v instanceof Uint8Array) || v.length > max) throw new InvalidInput(field, `must be at most ${max} bytes`);
    return v;
  }, { type: "string", contentEncoding: "base64" });

const s3Location = object({
  store: required(oneOf("s3")),
  bucket: required(str(3, 63, BUCKET)),
  key: required(str(1, 1024)),
});
const localLocation = object({ store: required(oneOf("local")), node: required(did) });

export const locationShape: Check<Location> = check((v, field) => {
  const store = (v as { store?: unknown } | null)?.store;
  if (store === "s3") return s3Location(v, field) as S3Location;
  if (store === "local") return localLocation(v, field) as LocalLocation;
  throw new InvalidInput(`${field}.store`, 'must be "s3" or "local"');
}, { oneOf: [s3Location.json, localLocation.json] });

const ms = int(0, 8.64e15);

const storedFile = {
  size: required(int(0, Number.MAX_SAFE_INTEGER)),
  sha256: required(str(64, 64, SHA256_HEX)),
  cid: required(cidText),
  mediaType: required(str(3, 193, MEDIA_TYPE)),
  locations: required(list(locationShape, 16)),
};

export const outputShape = object({ path: required(str(1, 256, RUN_PATH)), ...storedFile });
const runLogShape = object(storedFile);

export const manifestShape = object({
  type: required(oneOf(MANIFEST_TYPE)),
  space: required(did),
  task: required(str(8, 40, TASK_ID)),
  spec: required(cidText),
  runner: required(object({ did: required(did), kind: required(str(1, 32, /^[a-z0-9-]+$/)) })),
  status: required(
    oneOf<RunStatus>("succeeded", "failed", "timeout", "out-of-memory", "output-limit", "stopped", "error"),
  ),
  exitCode: optional(int(-(2 ** 31), 2 ** 31)),
  startedAt: required(ms),
  endedAt: required(ms),
  outputs: required(list(outputShape, MAX_OUTPUTS)),
  log: optional(runLogShape),
  capability: required(
    object({ invocation: required(bytes(64 * 1024)), proofs: required(list(bytes(64 * 1024), 16)) }),
  ),
  provenance: required(dsseEnvelopeShape),
});

/** Check a decoded manifest: its shape, and that every file's CID and every output's path are consistent. */
export function parseManifest(value: unknown): Manifest {
  let m: Manifest;
  try {
    m = manifestShape(value, "manifest") as Manifest;
  } catch (e) {
    throw new ArtifactError("artifact/invalid-manifest", (e as Error).message, { cause: e });
  }
  const paths = new Set<string>();
  for (const o of m.outputs) {
    if (o.cid !== rawCid(o.sha256)) {
      throw new ArtifactError(
        "artifact/invalid-manifest",
        `output ${o.path}: ${o.cid} is not the raw CID of its sha-256`,
      );
    }
    if (paths.has(o.path)) throw new ArtifactError("artifact/invalid-manifest", `output ${o.path} is listed twice`);
    paths.add(o.path);
  }
  if (m.log && m.log.cid !== rawCid(m.log.sha256)) {
    throw new ArtifactError("artifact/invalid-manifest", `the run log: ${m.log.cid} is not the raw CID of its sha-256`);
  }
  if (m.endedAt < m.startedAt) throw new ArtifactError("artifact/invalid-manifest", "the run ends before it starts");
  return m;
}

/** Every file a manifest names: its outputs, then its log (named as in the statement). */
export function manifestFiles(m: Manifest): ManifestOutput[] {
  return m.log ? [...m.outputs, { path: RUN_LOG_SUBJECT, ...m.log }] : m.outputs;
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  const bytes = dagJson.encode(manifest);
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new ArtifactError(
      "artifact/too-large",
      `the manifest is ${bytes.length} bytes; at most ${MAX_MANIFEST_BYTES} (fewer outputs per run)`,
    );
  }
  return bytes;
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new ArtifactError("artifact/too-large", `a manifest is at most ${MAX_MANIFEST_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = dagJson.decode(bytes);
  } catch (e) {
    throw new ArtifactError("artifact/invalid-manifest", `not dag-json: ${(e as Error).message}`);
  }
  return parseManifest(value);
}

/** A manifest's CID: CIDv1, dag-json, sha2-256. */
export function manifestCid(bytes: Uint8Array): CID {
  return cidOf(bytes, DAG_JSON);
}
