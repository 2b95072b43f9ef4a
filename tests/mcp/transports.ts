/**
 * `weft mcp` as MCP clients reach it, for the MCP suites: over stdio (the
 * SDK client starting the CLI, as Claude Code or Codex would) and over
 * streamable HTTP (the CLI serving on loopback; each client authorized
 * through the OAuth flow, granted by the person: oauth-flow.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { eventually } from "../helpers/nodes.ts";
import { CLI } from "./principal-files.ts";
import { authorizedClient } from "./oauth-flow.ts";

/** A peer's home, for WEFT_HOME. */
export interface Home {
  home: string;
}

export interface Served {
  child: ChildProcess;
  url: string;
  /** The peer's home: where the person runs `weft mcp grant`. */
  home: string;
}

/** An SDK client over stdio, the CLI started with `args` against the peer at `d`. */
export async function connectStdio(d: Home, args: string[]): Promise<Client> {
  const client = new Client({ name: "weft-test", version: "1" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, ...args],
      env: { ...process.env, WEFT_HOME: d.home } as Record<string, string>,
      stderr: "pipe",
    }),
  );
  return client;
}

/** `weft mcp --http` started for the peer at `d`, once it says where it listens. */
export async function serveHttp(d: Home): Promise<Served> {
  const child = spawn(process.execPath, [CLI, "mcp", "--http", "--json"], {
    env: { ...process.env, WEFT_HOME: d.home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  const started = await eventually(
    () => {
      const m = /\{[\s\S]*"url"[\s\S]*\}/.exec(out);
      if (!m) throw new Error("not listening yet");
      return JSON.parse(m[0]) as { url: string };
    },
    30_000,
    "weft mcp --http printed where it listens",
  );
  return { child, url: started.url, home: d.home };
}

/** An SDK client over streamable HTTP, authorized by the person for `commands`. */
export async function connectHttp(s: Served, commands: string[], name?: string): Promise<Client> {
  return (await authorizedClient(s.url, s.home, commands, name)).client;
}

/** Stop a served `weft mcp --http`, waiting for it to exit. */
export async function stopServed(s: Served): Promise<void> {
  s.child.kill("SIGTERM");
  await new Promise((r) => s.child.exitCode !== null ? r(null) : s.child.once("exit", r));
}

/** Call a tool: whether it was a tool error, its text, and its JSON answer when it was not. */
export async function call(client: Client, name: string, args: Record<string, unknown>) {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = (r.content[0] as { text: string }).text;
  // deno-lint-ignore no-explicit-any
  return { error: r.isError === true, text, value: r.isError ? undefined : JSON.parse(text) as any };
}
