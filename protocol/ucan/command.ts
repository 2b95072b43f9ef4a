/**
 * UCAN command paths (`/`, `/weft/task/claim`, …) and the prefix rule: a
 * delegated command proves itself and every command below it, segment by
 * segment (`/weft/task` proves `/weft/task/claim`, not `/weft/taskforce`).
 */
import { UcanError } from "./errors.ts";

const SEGMENT = /^[a-z0-9_\-.~]+$/;
const MAX_COMMAND_LENGTH = 256;

/** Why `cmd` is not a valid command, or undefined if it is. */
export function commandProblem(cmd: unknown): string | undefined {
  if (typeof cmd !== "string") return "a command is a string";
  if (cmd.length > MAX_COMMAND_LENGTH) return `a command is at most ${MAX_COMMAND_LENGTH} characters`;
  if (cmd === "/") return undefined;
  if (!cmd.startsWith("/")) return `command ${JSON.stringify(cmd)} must start with "/"`;
  if (cmd.endsWith("/")) return `command ${JSON.stringify(cmd)} must not end with "/"`;
  for (const seg of cmd.slice(1).split("/")) {
    if (!SEGMENT.test(seg)) {
      return `command ${JSON.stringify(cmd)} has an invalid segment ${JSON.stringify(seg)} ` +
        "(segments are non-empty, lowercase letters, digits and _-.~)";
    }
  }
  return undefined;
}

export function assertCommand(cmd: unknown): asserts cmd is string {
  const problem = commandProblem(cmd);
  if (problem) throw new UcanError("InvalidCommand", problem);
}

/** True when a delegation of `delegated` proves an invocation of `invoked`. */
export function proves(delegated: string, invoked: string): boolean {
  return delegated === "/" || invoked === delegated || invoked.startsWith(delegated + "/");
}
