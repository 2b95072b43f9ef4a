/**
 * One JSON error shape for every failure — `{"error": {"code", "message"}}` —
 * and the status each kind of failure gets (protocol/error-codes.ts gives
 * every code its kind): 400 bad input, 401 no or bad credentials, 403 not
 * allowed, 404, 409 conflicts, 413, 422 refused content, 502/503/504 for
 * what the peer depends on, 500 only for bugs.
 */
import { type ErrorCode, type ErrorKind, errorKind, WeftError } from "#protocol";

export class HttpError extends WeftError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string) {
    super("HttpError", code, message);
    this.status = status;
  }
}

/** The HTTP status of each kind of failure (error-codes.ts gives every code its kind). */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  input: 400,
  cancelled: 400,
  unauthenticated: 401,
  denied: 403,
  "not-found": 404,
  conflict: 409,
  "too-large": 413,
  unprocessable: 422,
  internal: 500,
  upstream: 502,
  unavailable: 503,
  timeout: 504,
};

export function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (!(e instanceof WeftError)) return 500;
  return STATUS_OF_KIND[errorKind(e.code)];
}

export function errorBody(e: unknown): { error: { code: string; message: string } } {
  if (e instanceof WeftError) return { error: { code: e.code, message: e.message } };
  return { error: { code: "internal", message: "internal error; the peer's log has details" } };
}
