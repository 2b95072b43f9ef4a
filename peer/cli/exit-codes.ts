/**
 * Exit codes scripts can rely on (documented in `weft --help`), one per
 * kind of failure: protocol/error-codes.ts gives every code its kind, so
 * every code has an exit code.
 */
import { type ErrorKind, errorKind, WeftError } from "#protocol";

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  denied: 5,
  unavailable: 69,
} as const;

export const EXIT_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  input: EXIT.usage,
  "too-large": EXIT.usage,
  unauthenticated: EXIT.denied,
  denied: EXIT.denied,
  "not-found": EXIT.notFound,
  conflict: EXIT.conflict,
  unavailable: EXIT.unavailable,
  unprocessable: EXIT.error,
  upstream: EXIT.error,
  timeout: EXIT.error,
  cancelled: EXIT.error,
  internal: EXIT.error,
};

/** The kind an HTTP status says, for a peer's error whose code this build does not know. */
function kindOfStatus(status: number): ErrorKind {
  if (status === 400) return "input";
  if (status === 401) return "unauthenticated";
  if (status === 403) return "denied";
  if (status === 404) return "not-found";
  if (status === 409) return "conflict";
  if (status === 413) return "too-large";
  return "internal";
}

export function exitCodeFor(e: unknown): number {
  if (!(e instanceof WeftError)) return EXIT.error;
  const status = (e as { status?: number }).status;
  if (e.code === "http" && status !== undefined) return EXIT_OF_KIND[kindOfStatus(status)];
  return EXIT_OF_KIND[errorKind(e.code)];
}
