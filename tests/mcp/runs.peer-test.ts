/**
 * Runs through `weft mcp`: a real WASM job (the hasher sample) run by the
 * peer, then listed, read and its log paged by an MCP client holding only
 * /weft/space/read — and refused to one holding nothing that reads.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { CLI, principalFiles } from "./principal-files.ts";

const run = promisify(execFile);

describe("runs and their logs over MCP", { timeout: 120_000 }, () => {
  let d: TestDaemon;
  let dir: string;
  let space: string;
  let task: string;
  const clients: Client[] = [];

  async function connect(args: string[]) {
    const client = new Client({ name: "weft-test", version: "1" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, ...args],
        env: { ...process.env, WEFT_HOME: d.home } as Record<string, string>,
      }),
    );
    clients.push(client);
    return async (name: string, args: Record<string, unknown>) => {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const text = (r.content[0] as { text: string }).text;
      return { error: r.isError === true, text, value: r.isError ? undefined : JSON.parse(text) };
    };
  }

  before(async () => {
    d = await testDaemon();
    dir = await mkdtemp(join(tmpdir(), "weft-mcp-runs-"));
    space = (await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
    await writeFile(join(dir, "hasher.wasm"), (await buildSamples()).hasher.component);
    await writeFile(join(dir, "input.txt"), "hash me over MCP\n");
    const { stdout } = await run(
      process.execPath,
      [
        CLI,
        "run",
        join(dir, "hasher.wasm"),
        "input.txt",
        "--input",
        `input.txt=${join(dir, "input.txt")}`,
        "--wait",
        "--json",
      ],
      { env: { ...process.env, WEFT_HOME: d.home } },
    );
    const pod = JSON.parse(stdout) as { task: string; state: string };
    assert.equal(pod.state, "succeeded");
    task = pod.task;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists the run, reads it, and pages through its log", async () => {
    const call = await connect((await principalFiles(d, space, dir, "run-reader", ["/weft/space/read"])).args);
    const listed = await call("list_runs", {});
    assert.equal(listed.error, false, listed.text);
    assert.deepEqual(listed.value.runs.map((r: { task: string }) => r.task), [task]);
    const one = await call("read_run", { task });
    assert.equal(one.value.state, "succeeded");

    const all = await call("read_run_log", { task });
    assert.equal(all.error, false, all.text);
    assert.ok(all.value.lines.length >= 2, JSON.stringify(all.value));
    assert.equal(all.value.nextCursor, undefined);
    const first = await call("read_run_log", { task, limit: 1 });
    assert.deepEqual(first.value.lines, all.value.lines.slice(0, 1));
    assert.equal(first.value.nextCursor, "1");
    const second = await call("read_run_log", { task, limit: 1, cursor: first.value.nextCursor });
    assert.deepEqual(second.value.lines, all.value.lines.slice(1, 2));
  });

  it("refuses runs and logs to a principal that may not read the space", async () => {
    const call = await connect((await principalFiles(d, space, dir, "run-blind", ["/weft/task/comment"])).args);
    for (const [name, args] of [["list_runs", {}], ["read_run", { task }], ["read_run_log", { task }]] as const) {
      const r = await call(name, args);
      assert.equal(r.error, true, name);
      assert.match(r.text, /^(cap|ucan)\/[a-z-]+: /);
    }
  });
});
