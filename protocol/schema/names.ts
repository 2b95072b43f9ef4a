/**
 * Names people give things — spaces, invites, devices, members — end up in
 * terminals, logs and the dashboard. A control character in one (NUL, a
 * newline, an escape sequence, a bidi override) can forge a log line,
 * rewrite a terminal or disguise what a name says, so a name holding one is
 * refused wherever names enter: the API, the CLI, and the network.
 */
import { type Check, check, InvalidInput } from "./input-checks.ts";

/** C0 and C1 controls (NUL, newline, ESC, DEL…), line and paragraph separators, bidi embeddings and overrides. */
const UNSAFE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "gu");

/** Why `name` is not an acceptable name, or undefined if it is. */
export function nameProblem(name: unknown, max: number): string | undefined {
  if (typeof name !== "string" || name.length === 0 || name.length > max) {
    return `must be a string of 1 to ${max} characters`;
  }
  if (UNSAFE.test(name)) {
    return "must not contain control characters (NUL, newlines, escapes, bidi overrides); use plain text";
  }
  return undefined;
}

/** A name field: 1 to `max` characters, no control characters. */
export const plainName = (max: number): Check<string> =>
  check((v, field) => {
    const problem = nameProblem(v, max);
    if (problem) throw new InvalidInput(field, problem);
    return v as string;
  }, { type: "string", minLength: 1, maxLength: max, description: "plain text: no control characters" });

/** `name` with each control character replaced by U+FFFD, for names that cannot be refused (a space's genesis). */
export function neutralized(name: string): string {
  return name.replace(UNSAFE_ALL, "\uFFFD");
}
