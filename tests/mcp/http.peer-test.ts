/**
 * `weft mcp --http`: the streamable HTTP transport on loopback, authorized
 * as the MCP spec says. The SDK's own client with its OAuth provider finds
 * the metadata, registers and runs PKCE by itself; the person's grant
 * (`weft mcp grant CODE`) delegates to the client's own DID, so every call
 * is the client's signed request under that delegation and nothing more.
 * A client nobody granted gets no token; a token is good only here, only
 * for its client's sessions, and only from a loopback Host and Origin.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { call, type Served, serveHttp, stopServed } from "./transports.ts";
import { answer, authorizedClient, follow, MemoryOAuthProvider, startAuthorization } from "./oauth-flow.ts";
import { serveMcpHttp } from "../../peer/mcp/http.ts";

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

function post(url: string, headers: Record<string, string>, body: unknown = initialize) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const form = (url: string, fields: Record<string, string>) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });

describe("weft mcp over streamable HTTP, with MCP authorization", () => {
  let d: TestDaemon;
  let s: Served;
  let space: string;
  let seeded: string;
  const clients: Client[] = [];
  const task = (id: string) => d.client.get<TaskView>(`/v1/spaces/${encodeURIComponent(space)}/tasks/${id}`);

  before(async () => {
    d = await testDaemon();
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
    seeded = (await d.client.op<"create", TaskView>(space, "create", { task: newTaskId(), title: "triage" })).id;
    s = await serveHttp(d);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopServed(s);
    await d.stop();
  });

  it("publishes protected resource and authorization server metadata a stock client can follow", async () => {
    const refused = await post(s.url, {});
    assert.equal(refused.status, 401);
    const challenge = refused.headers.get("www-authenticate") ?? "";
    const prm = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.ok(prm, challenge);
    const resource = await (await fetch(prm)).json();
    assert.equal(resource.resource, s.url);
    const issuer = resource.authorization_servers[0];
    const meta = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
    assert.equal(meta.issuer, issuer);
    assert.deepEqual(meta.code_challenge_methods_supported, ["S256"]);
    assert.ok(meta.registration_endpoint);
  });

  it("an SDK client authorized by the person acts as its own DID, holding exactly the grant", async () => {
    const { client, granted } = await authorizedClient(s.url, d.home, ["/weft/space/read", "/weft/task/comment"]);
    clients.push(client);
    const found = await call(client, "search_tasks", { text: "triage" });
    assert.deepEqual(found.value.tasks.map((t: { id: string }) => t.id), [seeded]);
    const ok = await call(client, "comment_task", { task: seeded, body: "on it" });
    assert.equal(ok.error, false, ok.text);
    assert.equal((await task(seeded)).comments.at(-1)?.author, granted.did);

    const refused = await call(client, "claim_task", { task: seeded });
    assert.equal(refused.error, true);
    assert.match(refused.text, /^(cap|ucan)\/[a-z-]+: /);
    assert.equal((await task(seeded)).status, "open");
  });

  it("a client the person refused, or nobody answered, gets no token", async () => {
    const provider = new MemoryOAuthProvider("refused");
    const { code, next } = await startAuthorization(s.url, provider);
    // Unanswered: the page stays a page.
    const still = await fetch(next, { redirect: "manual" });
    assert.equal(still.status, 200);
    await still.text();
    await answer(d.home, code, ["--deny", "not today"]);
    const back = await follow(next);
    assert.equal(back.searchParams.get("error"), "access_denied");
    assert.equal(back.searchParams.get("code"), null);
    await assert.rejects(answer(d.home, code), /no authorization waits|answered/);
    const client = new Client({ name: "refused", version: "1" });
    await assert.rejects(
      client.connect(new StreamableHTTPClientTransport(new URL(s.url), { authProvider: provider })),
      UnauthorizedError,
    );
    // A made-up token is refused like none.
    assert.equal((await post(s.url, { authorization: "Bearer " + "A".repeat(43) })).status, 401);
  });

  it("a code is redeemed once, by the holder of the PKCE verifier, and a token only by its client", async () => {
    const provider = new MemoryOAuthProvider("pkce");
    const { code, next } = await startAuthorization(s.url, provider);
    await answer(d.home, code, ["--command", "/weft/space/read"]);
    const back = await follow(next);
    assert.equal(back.searchParams.get("iss"), new URL(s.url).origin);
    const authCode = back.searchParams.get("code")!;
    const token = `${new URL(s.url).origin}/token`;
    const clientId = provider.info!.client_id;
    const redeem = (verifier: string) =>
      form(token, {
        grant_type: "authorization_code",
        code: authCode,
        code_verifier: verifier,
        client_id: clientId,
        redirect_uri: provider.redirectUrl,
      });
    const stolen = await redeem("x".repeat(43));
    assert.equal(stolen.status, 400);
    assert.equal((await stolen.json()).error, "invalid_grant");
    const good = await redeem(provider.verifier);
    assert.equal(good.status, 200);
    const tokens = await good.json();
    assert.equal((await redeem(provider.verifier)).status, 400, "a code is used once");

    const auth = { authorization: `Bearer ${tokens.access_token}` };
    const res = await post(s.url, auth);
    assert.equal(res.status, 200);
    const text = await res.text();
    const message = JSON.parse(/data: (.*)/.exec(text)?.[1] ?? text);
    assert.equal(message.result.protocolVersion, "2025-11-25");
    const session = res.headers.get("mcp-session-id")!;
    const list = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };
    assert.equal((await post(s.url, { ...auth, "mcp-session-id": session }, list)).status, 200);

    // Another client's token does not reach this client's session.
    const other = await authorizedClient(s.url, d.home, ["/weft/space/read"], "other");
    clients.push(other.client);
    const theirs = { authorization: `Bearer ${other.provider.saved!.access_token}`, "mcp-session-id": session };
    assert.equal((await post(s.url, theirs, list)).status, 404);

    // A refresh token is rotated: the new one works, the old one is spent.
    const refresh = (value: string) =>
      form(token, { grant_type: "refresh_token", refresh_token: value, client_id: clientId });
    const renewed = await refresh(tokens.refresh_token);
    assert.equal(renewed.status, 200);
    assert.equal((await refresh(tokens.refresh_token)).status, 400);
    const fresh = (await renewed.json()).access_token;
    assert.equal((await post(s.url, { authorization: `Bearer ${fresh}` })).status, 200);

    const host = new URL(s.url).host;
    assert.equal((await post(s.url, { ...auth, origin: "http://evil.example" })).status, 403);
    assert.equal((await post(s.url, { ...auth, origin: `http://${host}.evil.example` })).status, 403);
    assert.equal((await post(s.url, auth, "x".repeat(2 * 1024 * 1024))).status, 413);
    assert.equal((await post(s.url, auth, "{not json")).status, 400);
  });

  it("refuses a registration whose http redirect leaves loopback", async () => {
    const r = await fetch(`${new URL(s.url).origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_name: "x", redirect_uris: ["http://evil.example/cb"] }),
    });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, "invalid_redirect_uri");
  });

  it("a second server on the same home is refused (they would undo each other's writes)", async () => {
    await assert.rejects(serveMcpHttp({ home: d.home, dir: join(d.home, "mcp-oauth") }), /already serves this home/);
  });
});

describe("weft mcp --http sessions", () => {
  it("closes a session left unused, and refuses its id after", async () => {
    const d = await testDaemon();
    const server = await serveMcpHttp({ home: d.home, dir: join(d.home, "mcp-oauth"), idleMs: 200 });
    try {
      const { client, provider } = await authorizedClient(server.url, d.home, ["/weft/space/read"]);
      await client.close();
      const auth = { authorization: `Bearer ${provider.saved!.access_token}` };
      const res = await post(server.url, auth);
      assert.equal(res.status, 200);
      const session = res.headers.get("mcp-session-id")!;
      // Wait without touching the session (a request would keep it alive), then use it.
      await eventually(() => server.sessions() === 0, 10_000, "the idle session closed");
      const list = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };
      assert.equal((await post(server.url, { ...auth, "mcp-session-id": session }, list)).status, 404);
    } finally {
      await server.close();
      await d.stop();
    }
  });
});
