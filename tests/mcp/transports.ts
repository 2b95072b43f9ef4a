/**
 * `weft mcp` as MCP clients reach it, for the MCP suites: over stdio (the
 * SDK client starting the CLI, as Claude Code or Codex would) and over
 * streamable HTTP (the CLI serving on loopback, its token in a 0600 file).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { eventually } from "../helpers/nodes.ts";
import { CLI } from "./principal-files.ts";

/** A peer's home, for WEFT_HOME. */
export interface Home {
  home: string;
}

export interface Served {
  child: ChildProcess;
  url: string;
  token: string;
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

/** `weft mcp … --http` started, once it says where it listens (its token file checked 0600). */
export async function serveHttp(d: Home, args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [CLI, ...args, "--http", "--json"], {
    env: { ...process.env, WEFT_HOME: d.home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  const started = await eventually(
    () => {
      const m = /\{[\s\S]*"tokenFile"[\s\S]*\}/.exec(out);
      if (!m) throw new Error("not listening yet");
      return JSON.parse(m[0]) as { url: string; tokenFile: string };
    },
    30_000,
    "weft mcp --http printed where it listens",
  );
  assert.equal((await stat(started.tokenFile)).mode & 0o777, 0o600);
  return { child, url: started.url, token: (await readFile(started.tokenFile, "utf8")).trim() };
}

/** An SDK client over streamable HTTP, with `token` as its bearer. */
export async function connectHttp(s: Served, token = s.token): Promise<Client> {
  const client = new Client({ name: "weft-test", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(s.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
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
