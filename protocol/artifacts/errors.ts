/**
 * Why an artifact or a manifest was refused. Each code names one kind of
 * failure, so callers (the API, the CLI, tests) can tell a forged
 * signature from a missing capability from a flipped byte.
 */
import { WeftError } from "../errors.ts";

export type ArtifactErrorCode =
  /** The manifest block is not a well-formed Weft manifest. */
  | "artifact/invalid-manifest"
  /** No valid signature by the runner over the provenance statement. */
  | "artifact/bad-signature"
  /** The manifest and its signed statement (or its CID) disagree. */
  | "artifact/tampered"
  /** The signer did not hold the run capability in the space when it ran. */
  | "artifact/unauthorized"
  /** Bytes read back do not match the recorded size and sha-256. */
  | "artifact/digest-mismatch"
  /** A CID that does not name raw bytes by sha-256. */
  | "artifact/invalid-cid"
  /** A manifest larger than peers will exchange. */
  | "artifact/too-large"
  /** The artifact store refused the credentials. */
  | "artifact/store-credentials"
  /** The artifact store's bucket does not exist. */
  | "artifact/store-missing-bucket"
  /** The artifact store did not answer (or the connection broke): worth retrying. */
  | "artifact/store-unreachable"
  /** The artifact store answered with another error. */
  | "artifact/store-failed";

export class ArtifactError extends WeftError {
  declare readonly code: ArtifactErrorCode;
  constructor(code: ArtifactErrorCode, message: string, options?: { cause?: unknown }) {
    super("ArtifactError", code, message, options);
  }
}
