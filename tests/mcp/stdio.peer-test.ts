/**
 * `weft mcp` over stdio, driven by the MCP SDK's own client as Claude Code
 * or Codex would start it: every call is the client's own principal's,
 * checked by the peer against that principal's delegation. A principal
 * without a right gets a tool error and nothing changes; one with it acts
 * under its own DID (the task's creator, the comment's author, the lease's
 * holder), never the node's.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { CLI, principalFiles } from "./principal-files.ts";
import { call, connectStdio as connect } from "./transports.ts";

const READ = "/weft/space/read";
const run = promisify(execFile);

describe("weft mcp over stdio", () => {
  let d: TestDaemon;
  let dir: string;
  let space: string;
  let seeded: string;
  const clients: Client[] = [];

  before(async () => {
    d = await testDaemon();
    dir = await mkdtemp(join(tmpdir(), "weft-mcp-"));
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
    const t = await d.client.op<"create", TaskView>(space, "create", {
      task: newTaskId(),
      title: "fix the flaky test",
      labels: ["ci"],
    });
    seeded = t.id;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists its tools, and the space's tasks as resources", async () => {
    const p = await principalFiles(d, space, dir, "lister", [READ]);
    const client = await connect(d, p.args);
    clients.push(client);
    assert.equal(client.getServerVersion()?.name, "weft");
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, [
      "claim_task",
      "comment_task",
      "create_task",
      "list_files",
      "list_patches",
      "list_repos",
      "list_runs",
      "propose_patch",
      "read_file",
      "read_patch",
      "read_run",
      "read_run_log",
      "read_task",
      "release_task",
      "revise_patch",
      "search_files",
      "search_tasks",
    ]);
    const { resources } = await client.listResources();
    const uri = `weft://space/${space}/tasks/${seeded}`;
    assert.ok(resources.some((r) => r.uri === uri));
    const read = await client.readResource({ uri });
    assert.equal(JSON.parse((read.contents[0] as { text: string }).text).title, "fix the flaky test");
  });

  it("a principal holding read and comment reads and comments as itself, and is refused create and claim", async () => {
    const p = await principalFiles(d, space, dir, "commenter", [READ, "/weft/task/comment"]);
    const client = await connect(d, p.args);
    clients.push(client);

    const found = await call(client, "search_tasks", { text: "flaky" });
    assert.deepEqual(found.value.tasks.map((t: { id: string }) => t.id), [seeded]);
    assert.equal((await call(client, "read_task", { task: seeded })).value.title, "fix the flaky test");

    const commented = await call(client, "comment_task", { task: seeded, body: "looking into it" });
    assert.equal(commented.error, false, commented.text);
    const after = await d.client.get<TaskView>(`/v1/spaces/${encodeURIComponent(space)}/tasks/${seeded}`);
    assert.equal(after.comments.at(-1)?.author, p.did, "the comment is the MCP client's own");

    const before = (await d.client.get<{ tasks: TaskView[] }>(`/v1/spaces/${encodeURIComponent(space)}/tasks`))
      .tasks.length;
    const created = await call(client, "create_task", { title: "not mine to file" });
    assert.equal(created.error, true);
    assert.match(created.text, /^(cap|ucan)\/[a-z-]+: /);
    const claimed = await call(client, "claim_task", { task: seeded });
    assert.equal(claimed.error, true, claimed.text);
    const now = await d.client.get<{ tasks: TaskView[] }>(`/v1/spaces/${encodeURIComponent(space)}/tasks`);
    assert.equal(now.tasks.length, before, "the refused create made no task");
    assert.equal(now.tasks.find((t) => t.id === seeded)?.status, "open", "the refused claim took no lease");
  });

  it("a principal holding /weft/task creates, claims and releases as itself", async () => {
    const p = await principalFiles(d, space, dir, "worker", [READ, "/weft/task"]);
    const client = await connect(d, p.args);
    clients.push(client);
    const created = await call(client, "create_task", { title: "write the release notes", labels: ["docs"] });
    assert.equal(created.error, false, created.text);
    assert.equal(created.value.creator, p.did);
    const claimed = await call(client, "claim_task", { task: created.value.id, leaseSeconds: 60 });
    assert.equal(claimed.error, false, claimed.text);
    assert.equal(claimed.value.lease.holder, p.did);
    const released = await call(client, "release_task", { task: created.value.id });
    assert.equal(released.error, false, released.text);
    assert.equal(released.value.status, "open");
  });

  it("a long discussion reads as its newest comments, within what one answer holds", async () => {
    const p = await principalFiles(d, space, dir, "reader", [READ]);
    const client = await connect(d, p.args);
    clients.push(client);
    const id = (await d.client.op<"create", TaskView>(space, "create", { task: newTaskId(), title: "long talk" })).id;
    for (let i = 0; i < 24; i++) await d.client.op(space, "comment", { task: id, body: `${i} `.padEnd(6_000, "x") });
    const r = await call(client, "read_task", { task: id });
    assert.equal(r.error, false, r.text);
    assert.equal(r.value.commentCount, 24);
    assert.ok(r.value.comments.length > 0 && r.value.comments.length < 24);
    assert.ok(JSON.stringify(r.value.comments).length <= 64 * 1024, "at most 64 KiB of comments in one read");
    assert.ok(r.value.comments.at(-1).body.startsWith("23 "), "the newest comment is there");
  });

  it("a principal whose delegation is revoked is refused from then on", async () => {
    const p = await principalFiles(d, space, dir, "revoked", [READ]);
    const client = await connect(d, p.args);
    clients.push(client);
    assert.equal((await call(client, "read_task", { task: seeded })).error, false);
    const { cid } = JSON.parse(await readFile(p.chains[0], "utf8")) as { cid: string };
    await d.client.request("DELETE", `/v1/spaces/${encodeURIComponent(space)}/capabilities/${cid}`, {});
    const r = await call(client, "read_task", { task: seeded });
    assert.equal(r.error, true);
    assert.match(r.text, /^(cap|ucan)\/[a-z-]+: /);
  });

  it("a principal that may not read the space is refused every read", async () => {
    const p = await principalFiles(d, space, dir, "blind", ["/weft/task/comment"]);
    const client = await connect(d, p.args);
    clients.push(client);
    const r = await call(client, "search_tasks", {});
    assert.equal(r.error, true);
    assert.match(r.text, /^(cap|ucan)\/[a-z-]+: /);
  });

  it("will not serve with the node's own key", async () => {
    const p = await principalFiles(d, space, dir, "imposter", [READ]);
    const args = ["mcp", "--key", join(d.home, "keys", "node.json"), "--chain", p.chains[0]];
    await assert.rejects(
      run(process.execPath, [CLI, ...args], { env: { ...process.env, WEFT_HOME: d.home } }),
      (e: { stderr: string }) => /the node's own key/.test(e.stderr),
    );
  });

  it("refuses bad input by schema, before anything reaches the peer", async () => {
    const p = await principalFiles(d, space, dir, "sloppy", [READ]);
    const client = await connect(d, p.args);
    clients.push(client);
    for (const args of [{ task: "../../v1/node" }, { task: "x".repeat(100) }]) {
      const r = (await client.callTool({ name: "read_task", arguments: args })) as CallToolResult;
      assert.equal(r.isError, true);
    }
    const big = (await client.callTool({ name: "search_tasks", arguments: { limit: 10_000 } })) as CallToolResult;
    assert.equal(big.isError, true);
  });
});
