/**
 * Reading a `weft` command line: the usage error every command throws on
 * bad input, and the small parsers the commands share (durations, whole
 * numbers, plain names, required positionals).
 */
import { WeftError } from "#protocol";
import { nameProblem } from "#protocol/schema";

export class Usage extends WeftError {
  constructor(message: string) {
    super("Usage", "cli/usage", message);
  }
}

/** The options `node:util`'s parseArgs gave back. */
export type Values = Record<string, string | boolean | string[] | undefined>;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** A duration like 500ms, 30s, 5m, 2h or 7d, in seconds. */
export function seconds(text: string, what: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Usage(`${what} is a duration like 30s, 5m, 2h or 7d`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s"];
}

export function need(args: string[], i: number, name: string): string {
  const v = args[i];
  if (v === undefined || v === "") throw new Usage(`missing <${name}>`);
  return v;
}

/** A name given on the command line (a space's, an invite's, a device's): plain text, or a usage error. */
export function plainNameArg(value: string, what: string, max: number): string {
  const problem = nameProblem(value, max);
  if (problem) throw new Usage(`${what} ${problem}`);
  return value;
}

export const str = (v: Values, k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
export const list = (v: Values, k: string) => (Array.isArray(v[k]) ? (v[k] as string[]) : []);

/** A whole number given on the command line. */
export function count(v: Values, k: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = str(v, k);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > max) throw new Usage(`--${k} is a whole number up to ${max}`);
  return Number(text);
}

export const enc = encodeURIComponent;
