/**
 * UCAN command paths (`/`, `/weft/task/claim`, `/ほげ/ふが`, …) and the prefix
 * rule: a delegated command proves itself and every command below it, segment
 * by segment (`/weft/task` proves `/weft/task/claim`, not `/weft/taskforce`).
 *
 * The grammar is the spec's (ucan-wg/spec, "Segment Structure"): a command is
 * lowercase, begins with "/", separates segments with "/", and has no
 * trailing "/"; segments are not empty (the working group's clarification).
 * Any Unicode is allowed; "lowercase" means lowercasing leaves it unchanged,
 * as in go-ucan.
 */

const MAX_COMMAND_LENGTH = 256;

/** Why `cmd` is not a valid command, or undefined if it is. */
export function commandProblem(cmd: unknown): string | undefined {
  if (typeof cmd !== "string") return "a command is a string";
  if (cmd.length > MAX_COMMAND_LENGTH) return `a command is at most ${MAX_COMMAND_LENGTH} characters`;
  const shown = JSON.stringify(cmd);
  if (!cmd.isWellFormed()) return `command ${shown} is not well-formed Unicode (a lone surrogate)`;
  if (cmd === "/") return undefined;
  if (!cmd.startsWith("/")) return `command ${shown} must start with "/"`;
  if (cmd.endsWith("/")) return `command ${shown} must not end with "/"`;
  if (cmd.includes("//")) return `command ${shown} has an empty segment`;
  if (cmd.toLowerCase() !== cmd) return `command ${shown} must be lowercase (try ${JSON.stringify(cmd.toLowerCase())})`;
  return undefined;
}

/** True when a delegation of `delegated` proves an invocation of `invoked`. */
export function proves(delegated: string, invoked: string): boolean {
  return delegated === "/" || invoked === delegated || invoked.startsWith(delegated + "/");
}
