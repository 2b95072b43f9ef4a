/**
 * Input checks several route tables share: DIDs, commands, policies, times,
 * task states, refs and paged counts. Each says what a good value looks like.
 */
import { commandProblem, parsePolicy } from "#protocol/ucan";
import { type Check, check, int, InvalidInput, oneOf, optional, plainName, required, str } from "#protocol/schema";
import { isWeftError } from "#protocol";

export const STATUS = oneOf("open", "claimed", "running", "review", "done", "failed", "cancelled");
export const did = str(16, 128, /^did:key:z[1-9A-HJ-NP-Za-km-z]+$/);
/** A command to delegate: valid UCAN, and no empty, `.` or `..` segment that could read as a path. */
export const command: Check<string> = check((v, field) => {
  const problem = commandProblem(v);
  if (problem) throw new InvalidInput(field, `is not a valid command: ${problem}`);
  const cmd = v as string;
  if (cmd !== "/" && cmd.slice(1).split("/").some((seg) => seg === "." || seg === "..")) {
    throw new InvalidInput(
      field,
      `must not have "." or ".." segments (${JSON.stringify(cmd)}); name the command itself`,
    );
  }
  return cmd;
}, { type: "string", minLength: 1, maxLength: 256, pattern: "^/", description: "a UCAN command, e.g. /weft/task" });
/** A point in time written in ISO 8601 (e.g. 2026-12-02T03:00:00Z), read as Unix ms; not in the future. */
export const isoTime: Check<number> = check((v, field) => {
  const ms = typeof v === "string" && v.length <= 64 ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidInput(field, "must be an ISO 8601 time, e.g. 2026-12-02T03:00:00Z");
  if (ms > Date.now()) {
    throw new InvalidInput(field, "is in the future: name when the key was (or may have been) stolen");
  }
  return ms;
}, { type: "string", format: "date-time" });

/** A UCAN policy: a list of statements, checked by the policy parser itself. */
const policy: Check<unknown[]> = check((v, field) => {
  try {
    return parsePolicy(v).source as unknown[];
  } catch (e) {
    throw new InvalidInput(field, `is not a valid policy: ${isWeftError(e) ? e.message : e}`);
  }
}, { type: "array", items: { type: "array" }, description: "UCAN 1.0 policy statements" });

/** What a delegation from this node says: to whom, what, under which policy, until when, and what to call it. */
export const GRANT = {
  audience: required(did),
  command: required(command),
  policy: optional(policy),
  expiration: optional(int(0, 2 ** 40)),
  name: optional(plainName(64)),
  kind: optional(oneOf("member", "device", "agent")),
};

/** A ref (full, or a branch or tag name) or a commit id, as the file routes take it: no git revision syntax. */
export const REF_OR_COMMIT = str(1, 255, /^(?!-)[A-Za-z0-9._\/-]+$/);
/** A whole number from `min` to `max`, as a query parameter (text). */
export const count = (min: number, max: number) =>
  check((v, field) => {
    const n = Number(str(1, 12, /^\d+$/)(v, field));
    if (n < min || n > max) throw new InvalidInput(field, `must be a whole number from ${min} to ${max}`);
    return String(n);
  }, { type: "string", pattern: "^\\d+$" });
