/**
 * `weft mcp --http`: the streamable HTTP transport on loopback, driven by
 * the MCP SDK's client. Only a client holding the token the server wrote
 * (0600) may speak for its principal, only from a loopback Host and
 * Origin; what it may do is still what the principal was delegated,
 * checked by the peer.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { principalFiles } from "./principal-files.ts";
import { connectHttp as connect, type Served, serveHttp as serve, stopServed } from "./transports.ts";
import { loadPrincipal } from "../../peer/mcp/principal.ts";
import { serveMcpHttp } from "../../peer/mcp/http.ts";

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

function post(s: Served, headers: Record<string, string>, body: unknown = initialize) {
  return fetch(s.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("weft mcp over streamable HTTP", () => {
  let d: TestDaemon;
  let dir: string;
  let space: string;
  let seeded: string;
  const served: Served[] = [];
  const clients: Client[] = [];

  before(async () => {
    d = await testDaemon();
    dir = await mkdtemp(join(tmpdir(), "weft-mcp-http-"));
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
    seeded = (await d.client.op<"create", TaskView>(space, "create", { task: newTaskId(), title: "triage" })).id;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const s of served) await stopServed(s);
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers the current protocol revision, and only to the token's holder from loopback", async () => {
    const p = await principalFiles(d, space, dir, "http-reader", ["/weft/space/read"]);
    const s = await serve(d, p.args);
    served.push(s);
    const auth = { authorization: `Bearer ${s.token}` };

    assert.equal((await post(s, {})).status, 401);
    assert.equal((await post(s, { authorization: `Bearer ${s.token.slice(1)}x` })).status, 401);
    const host = new URL(s.url).host;
    assert.equal((await post(s, { ...auth, origin: "http://evil.example" })).status, 403);
    assert.equal((await post(s, { ...auth, origin: `http://${host}.evil.example` })).status, 403);
    assert.equal((await post(s, auth, "x".repeat(2 * 1024 * 1024))).status, 413);
    assert.equal((await post(s, auth, "{not json")).status, 400);

    const res = await post(s, { ...auth, accept: "application/json, text/event-stream" });
    assert.equal(res.status, 200);
    const text = await res.text();
    const message = JSON.parse(/data: (.*)/.exec(text)?.[1] ?? text);
    assert.equal(message.result.protocolVersion, LATEST_PROTOCOL_VERSION);
    assert.equal(LATEST_PROTOCOL_VERSION, "2025-11-25");
    assert.ok(res.headers.get("mcp-session-id"));
  });

  it("closes a session left unused, and refuses its id after", async () => {
    const p = await principalFiles(d, space, dir, "http-idle", ["/weft/space/read"]);
    const principal = await loadPrincipal({ keyFile: p.key, chainFiles: p.chains, home: d.home });
    const server = await serveMcpHttp(principal, { idleMs: 200 });
    try {
      const s: Served = { child: undefined as never, url: server.url, token: server.token };
      const res = await post(s, { authorization: `Bearer ${server.token}` });
      assert.equal(res.status, 200);
      const session = res.headers.get("mcp-session-id")!;
      const list = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };
      const asSession = { authorization: `Bearer ${server.token}`, "mcp-session-id": session };
      assert.equal(server.sessions(), 1);
      // Wait without touching the session (a request would keep it alive), then use it.
      await eventually(() => server.sessions() === 0, 10_000, "the idle session closed");
      assert.equal((await post(s, asSession, list)).status, 404);
    } finally {
      await server.close();
    }
  });

  it("an SDK client reads as its principal and is refused what the principal does not hold", async () => {
    const p = await principalFiles(d, space, dir, "http-agent", ["/weft/space/read", "/weft/task/comment"]);
    const s = await serve(d, p.args);
    served.push(s);
    await assert.rejects(connect(s, "not-the-token"), /401|Unauthorized|auth\/missing/);
    const client = await connect(s);
    clients.push(client);

    const found = (await client.callTool({ name: "search_tasks", arguments: { text: "triage" } })) as CallToolResult;
    assert.equal(found.isError, undefined);
    assert.deepEqual(
      JSON.parse((found.content[0] as { text: string }).text).tasks.map((t: { id: string }) => t.id),
      [seeded],
    );
    const ok =
      (await client.callTool({ name: "comment_task", arguments: { task: seeded, body: "on it" } })) as CallToolResult;
    assert.equal(ok.isError, undefined);
    const t = await d.client.get<TaskView>(`/v1/spaces/${encodeURIComponent(space)}/tasks/${seeded}`);
    assert.equal(t.comments.at(-1)?.author, p.did);

    const refused = (await client.callTool({ name: "claim_task", arguments: { task: seeded } })) as CallToolResult;
    assert.equal(refused.isError, true);
    assert.match((refused.content[0] as { text: string }).text, /^(cap|ucan)\/[a-z-]+: /);
    const still = await d.client.get<TaskView>(`/v1/spaces/${encodeURIComponent(space)}/tasks/${seeded}`);
    assert.equal(still.status, "open");
  });
});
