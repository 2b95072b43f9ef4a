/**
 * What went wrong talking to an S3-compatible endpoint, in words that say
 * what to fix: wrong credentials, a bucket that does not exist, an
 * endpoint that does not answer, or an object that is not there.
 */
import { WeftError } from "#protocol";
import { ArtifactError } from "#protocol/artifacts";

const CREDENTIALS = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "ExpiredToken",
  "InvalidToken",
  "CredentialsProviderError",
  "Forbidden",
]);
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "TimeoutError",
]);

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A WeftError for an S3 SDK failure during `what` (e.g. "upload of sha256/…"). */
export function storeError(e: unknown, what: string, where: { endpoint: string; bucket: string }): WeftError {
  if (e instanceof WeftError) return e;
  const err = (e ?? {}) as SdkError;
  const name = err.Code ?? err.name ?? "";
  const status = err.$metadata?.httpStatusCode;
  const code = err.code ?? (err as { cause?: { code?: string } }).cause?.code ?? "";
  if (name === "NoSuchKey" || (name === "NotFound" && what.startsWith("read"))) {
    return new WeftError("NotFound", "not-found", `${what}: no such object in s3://${where.bucket}`);
  }
  if (name === "NoSuchBucket" || (name === "NotFound" && what === "bucket check")) {
    return new ArtifactError(
      "artifact/store-missing-bucket",
      `${what}: the bucket ${where.bucket} does not exist at ${where.endpoint}; create it or set the right bucket`,
      { cause: e },
    );
  }
  if (CREDENTIALS.has(name) || status === 401 || status === 403) {
    return new ArtifactError(
      "artifact/store-credentials",
      `${what}: ${where.endpoint} refused the credentials (${name || status}); check the S3 access key and secret`,
      { cause: e },
    );
  }
  if (NETWORK.has(code) || NETWORK.has(name) || /ECONNREFUSED|ENOTFOUND|socket hang up/.test(err.message ?? "")) {
    return new ArtifactError(
      "artifact/store-unreachable",
      `${what}: cannot reach the S3 endpoint ${where.endpoint} (${
        code || name || err.message
      }); is it running and is the endpoint right?`,
      { cause: e },
    );
  }
  return new ArtifactError(
    "artifact/store-failed",
    `${what}: ${where.endpoint} answered ${name || "an error"}${status ? ` (HTTP ${status})` : ""}: ${
      err.message ?? ""
    }`,
    { cause: e },
  );
}
