/**
 * The one error type every Weft module throws.
 *
 * Callers branch on `code` (stable, machine-readable) and show `message`
 * (which says what went wrong and what to do). `name` is the family, e.g.
 * the UCAN spec's error names such as `InvalidSignature` or `Expired`.
 * Codes are listed, each with its kind of failure, in error-codes.ts.
 */
import type { ErrorCode } from "./error-codes.ts";

export class WeftError extends Error {
  /** Stable machine-readable code, e.g. `ucan/expired` or `did/invalid`. */
  readonly code: ErrorCode;

  constructor(name: string, code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
    this.code = code;
  }
}

/** What a thrown value says, for a log line or a run's reason: its message if it is an Error. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when `e` is a WeftError, optionally with the given code. */
export function isWeftError(e: unknown, code?: ErrorCode): e is WeftError {
  return e instanceof WeftError && (code === undefined || e.code === code);
}
