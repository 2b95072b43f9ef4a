/**
 * An MCP client's own principal on disk, as a user makes one: a key from
 * `weft mcp key`, and one chain file per command, each the `--json` answer
 * of the peer delegating that command to the key's DID.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import type { ApiClient } from "../../peer/api/client.ts";

const run = promisify(execFile);
export const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

export interface PrincipalFiles {
  did: string;
  key: string;
  chains: string[];
  /** `weft mcp` arguments for it. */
  args: string[];
}

/** A peer to delegate from: its home (for the CLI) and an API client with its powers. */
export interface Delegator {
  home: string;
  client: ApiClient;
}

export async function principalFiles(
  d: Delegator,
  space: string,
  dir: string,
  name: string,
  commands: string[],
): Promise<PrincipalFiles> {
  const key = join(dir, `${name}.json`);
  const { stdout } = await run(process.execPath, [CLI, "mcp", "key", key, "--json"], {
    env: { ...process.env, WEFT_HOME: d.home },
  });
  const { did } = JSON.parse(stdout) as { did: string };
  const chains: string[] = [];
  for (const command of commands) {
    const r = await d.client.request("POST", `/v1/spaces/${encodeURIComponent(space)}/capabilities`, {
      audience: did,
      command,
      kind: "agent",
      name,
    });
    const file = join(dir, `${name}-${chains.length}.chain.json`);
    await writeFile(file, JSON.stringify(r));
    chains.push(file);
  }
  return { did, key, chains, args: ["mcp", "--key", key, ...chains.flatMap((c) => ["--chain", c])] };
}
