/**
 * The stock MCP Inspector CLI (@modelcontextprotocol/inspector, run by path
 * as its launcher with --cli) against `weft mcp`: it lists the tools and
 * calls one, over stdio as it starts the server itself, and over HTTP with
 * an access token a client obtained through the MCP authorization flow
 * (the person granting it). Nothing here knows Weft: if the inspector can
 * drive it, so can any MCP client.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { CLI, principalFiles } from "./principal-files.ts";
import { serveHttp, stopServed } from "./transports.ts";
import { authorizedClient } from "./oauth-flow.ts";

const run = promisify(execFile);
const INSPECTOR = new URL(
  "../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
  import.meta.url,
).pathname;

describe("the MCP Inspector CLI against weft mcp", () => {
  let d: TestDaemon;
  let dir: string;
  let space: string;
  let seeded: string;
  let args: string[];

  before(async () => {
    d = await testDaemon();
    dir = await mkdtemp(join(tmpdir(), "weft-mcp-inspector-"));
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
    seeded = (await d.client.op<"create", TaskView>(space, "create", { task: newTaskId(), title: "inspect me" })).id;
    args = (await principalFiles(d, space, dir, "inspected", ["/weft/space/read"])).args;
  });
  after(async () => {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Run the inspector's CLI; resolves with its parsed JSON answer. */
  async function inspector(...argv: string[]) {
    const { stdout } = await run(process.execPath, [INSPECTOR, "--cli", ...argv], {
      env: { ...process.env, MCP_CATALOG_PATH: join(dir, "catalog.json"), MCP_INSPECTOR_SECRET_STORE: "memory" },
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout);
  }

  it("lists the tools and calls search_tasks over stdio", async () => {
    const server = ["-e", `WEFT_HOME=${d.home}`, "--", process.execPath, CLI, ...args];
    const listed = await inspector("--method", "tools/list", ...server);
    const names = listed.tools.map((t: { name: string }) => t.name);
    assert.ok(names.includes("search_tasks") && names.includes("claim_task"), names.join(" "));
    const called = await inspector(
      "--method",
      "tools/call",
      "--tool-name",
      "search_tasks",
      "--tool-arg",
      "text=inspect",
      ...server,
    );
    assert.deepEqual(JSON.parse(called.content[0].text).tasks.map((t: { id: string }) => t.id), [seeded]);
  });

  it("lists the tools over HTTP with an access token from the authorization flow", async () => {
    const s = await serveHttp(d);
    try {
      const { client, provider } = await authorizedClient(s.url, d.home, ["/weft/space/read"], "inspector");
      await client.close();
      const http = (
        bearer: string,
      ) => ["--transport", "http", "--server-url", s.url, "--header", `Authorization: Bearer ${bearer}`];
      const listed = await inspector("--method", "tools/list", ...http(provider.saved!.access_token));
      assert.ok(listed.tools.some((t: { name: string }) => t.name === "read_run_log"));
      await assert.rejects(inspector("--method", "tools/list", ...http("wrong")));
    } finally {
      await stopServed(s);
    }
  });
});
