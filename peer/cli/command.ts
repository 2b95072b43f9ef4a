/**
 * What every `weft` subcommand is made of: its usage, options and run
 * function, and the I/O it gets (output, the API client, the space to act
 * in). Subcommands live in per-area files (task-commands.ts, …), listed
 * by registry.ts.
 */
import process from "node:process";
import type { ApiClient } from "../api/client.ts";
import { WeftError } from "#protocol";
import { str, Usage, type Values } from "./args.ts";

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

/** The space to act in: --space (name, DID or DID prefix), WEFT_SPACE, the only one, or "personal". */
export async function resolveSpace(io: Io, v: Values): Promise<string> {
  const want = str(v, "space") ?? process.env.WEFT_SPACE;
  const spaces = await (await io.client()).spaces();
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
