/**
 * Exit codes scripts can rely on (documented in `weft --help`).
 */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  denied: 5,
  unavailable: 69,
} as const;

export function exitCodeFor(e: unknown): number {
  const code = (e as { code?: string }).code ?? "";
  const status = (e as { status?: number }).status;
  if (code === "cli/usage" || code.startsWith("input/") || code.startsWith("config/") || status === 400) {
    return EXIT.usage;
  }
  if (code === "cli/unreachable" || code === "cli/no-credentials") return EXIT.unavailable;
  if (status === 404 || code === "not-found") return EXIT.notFound;
  if (status === 409 || code === "task/conflict") return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.denied;
  return EXIT.error;
}
