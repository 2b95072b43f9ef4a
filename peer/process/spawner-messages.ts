/**
 * What the peer and its process spawner's helper (spawner.ts,
 * spawner-helper.ts) say to each other over their IPC channel, and the
 * token each stdio socket opens with. Requests are checked here before
 * the helper acts on them.
 */

/** Bytes of the random token a stdio socket sends first, naming it in its spawn request. */
export const TOKEN_BYTES = 16;

/** How long a spawn request waits for its sockets, and a socket for its token and request, in ms. */
export const SOCKET_WAIT_MS = 10_000;

/** Start `command` with `args`; its stdin and stdout are the sockets opened with these tokens (hex). */
export interface SpawnRequest {
  op: "spawn";
  id: number;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  stdin: string;
  stdout: string;
  /** How much of its stderr (the last characters) to send back with its exit. */
  stderrTail: number;
}

/** Kill the command of request `id`, with its process group, if it still runs. */
export interface KillRequest {
  op: "kill";
  id: number;
}

export type SpawnerRequest = SpawnRequest | KillRequest;

export type HelperMessage =
  | { op: "listening" }
  | { op: "spawned"; id: number; pid: number }
  | { op: "failed"; id: number; message: string }
  | { op: "exited"; id: number; code: number | null; signal: string | null; stderr: string };

const isString = (x: unknown): x is string => typeof x === "string";
const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isToken = (x: unknown): x is string => isString(x) && x.length === TOKEN_BYTES * 2 && /^[0-9a-f]+$/.test(x);

export function isSpawnerRequest(m: unknown): m is SpawnerRequest {
  if (typeof m !== "object" || m === null) return false;
  const r = m as Record<string, unknown>;
  if (r.op === "kill") return isId(r.id);
  return r.op === "spawn" && isId(r.id) && isString(r.command) && Array.isArray(r.args) && r.args.every(isString) &&
    typeof r.env === "object" && r.env !== null && Object.values(r.env).every(isString) &&
    (r.cwd === undefined || isString(r.cwd)) && isToken(r.stdin) && isToken(r.stdout) && r.stdin !== r.stdout &&
    isId(r.stderrTail);
}
