/**
 * One JSON error shape for every failure — `{"error": {"code", "message"}}` —
 * and the status each kind of failure gets: 400 bad input, 401 no or bad
 * credentials, 403 not allowed, 404, 409 conflicts, 413, 500 only for bugs.
 */
import { WeftError } from "#protocol";

export class HttpError extends WeftError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super("HttpError", code, message);
    this.status = status;
  }
}

const UNAUTHENTICATED = new Set([
  "ucan/malformed",
  "ucan/unsupported-varsig",
  "ucan/invalid-signature",
  "ucan/expired",
  "ucan/too-early",
  "ucan/invalid-payload",
  "did/invalid",
  "auth/missing",
  "auth/replayed",
]);

export function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (!(e instanceof WeftError)) return 500;
  if (e.code.startsWith("input/") || e.code === "invite/invalid" || e.code === "cbor/malformed") return 400;
  if (UNAUTHENTICATED.has(e.code)) return 401;
  if (e.code.startsWith("ucan/") || e.code === "cap/missing" || e.code.startsWith("sync/")) return 403;
  if (e.code === "not-found") return 404;
  if (e.code === "task/conflict" || e.code === "keystore/exists") return 409;
  return 500;
}

export function errorBody(e: unknown): { error: { code: string; message: string } } {
  if (e instanceof WeftError) return { error: { code: e.code, message: e.message } };
  return { error: { code: "internal", message: "internal error; the peer's log has details" } };
}
