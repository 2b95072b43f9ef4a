/**
 * What every `weft` subcommand is made of: its usage, options and run
 * function, the I/O it gets (output, the API client), and the small
 * argument helpers they share. Subcommands live in weft.ts and in
 * per-area files (run-commands.ts, …) built on this.
 */
import process from "node:process";
import type { ApiClient } from "../api/client.ts";
import { WeftError } from "#protocol";
import { nameProblem } from "#protocol/schema";

export class Usage extends WeftError {
  constructor(message: string) {
    super("Usage", "cli/usage", message);
  }
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  usage: string;
  summary: string;
  options?: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;
  run(args: string[], v: Values, io: Io): Promise<void>;
}

export interface Io {
  home: string;
  json: boolean;
  out(text: string): void;
  print(value: unknown, human: () => string): void;
  client(): Promise<ApiClient>;
}

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

/** The space to act in: --space (name, DID or DID prefix), WEFT_SPACE, the only one, or "personal". */
export async function resolveSpace(io: Io, v: Values): Promise<string> {
  const want = str(v, "space") ?? process.env.WEFT_SPACE;
  const { spaces } = await (await io.client()).get<{ spaces: Array<{ id: string; name: string }> }>("/v1/spaces");
  if (want) {
    const hit = spaces.find((s) => s.id === want || s.name === want) ?? spaces.find((s) => s.id.startsWith(want));
    if (!hit) throw new WeftError("NotFound", "not-found", `no space ${want}; see \`weft space list\``);
    return hit.id;
  }
  if (spaces.length === 1) return spaces[0].id;
  const personal = spaces.find((s) => s.name === "personal");
  if (personal) return personal.id;
  throw new Usage("this peer is in several spaces: pick one with --space <name|id> (or WEFT_SPACE)");
}

export const enc = encodeURIComponent;
