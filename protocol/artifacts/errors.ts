/**
 * Why an artifact or a manifest was refused. Each code names one kind of
 * failure, so callers (the API, the CLI, tests) can tell a forged
 * signature from a missing capability from a flipped byte.
 */
import { WeftError } from "../errors.ts";
import type { ErrorCode } from "../error-codes.ts";

/** The artifact codes, each described in ../error-codes.ts. */
export type ArtifactErrorCode = Extract<ErrorCode, `artifact/${string}`>;

export class ArtifactError extends WeftError {
  declare readonly code: ArtifactErrorCode;
  constructor(code: ArtifactErrorCode, message: string, options?: { cause?: unknown }) {
    super("ArtifactError", code, message, options);
  }
}
