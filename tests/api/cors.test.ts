/**
 * Cross-origin access to a real daemon's API (peer/api/cors.ts): routes a
 * signed bearer authorizes answer any origin, without credentials, and a
 * preflight only for the methods the path serves and the headers the API
 * reads; open routes (the node's DID, pairing) answer no other origin.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";

const ORIGIN = "http://elsewhere.example:8080";

describe("API CORS", () => {
  let a: TestDaemon;
  let space: string;

  before(async () => {
    a = await testDaemon();
    const { spaces } = await a.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
  });
  after(async () => await a.stop());

  const preflight = (path: string, method: string, headers = "authorization, content-type") =>
    fetch(a.client.url + path, {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": method, "access-control-request-headers": headers },
    });

  it("answers a preflight for a repository's pack with the methods and headers used, never credentials", async () => {
    const r = await preflight(`/v1/spaces/${space}/repos/web/pack`, "POST");
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    assert.equal(r.headers.get("access-control-allow-methods"), "POST");
    assert.equal(r.headers.get("access-control-allow-headers"), "authorization, content-type");
    assert.equal(r.headers.get("access-control-allow-credentials"), null);
    assert.ok(Number(r.headers.get("access-control-max-age")) > 0);
  });

  it("names every method a path serves to a bearer, and refuses one it does not serve", async () => {
    const tasks = await preflight(`/v1/spaces/${space}/tasks`, "GET");
    assert.equal(tasks.status, 204);
    assert.deepEqual(tasks.headers.get("access-control-allow-methods")?.split(", ").sort(), ["GET", "POST"]);
    const put = await preflight(`/v1/spaces/${space}/tasks`, "PUT");
    assert.equal(put.headers.get("access-control-allow-origin"), null);
    await put.body?.cancel();
  });

  it("a signed request from another origin is answered and readable; a refused one too, with its reason", async () => {
    const path = "/v1/spaces";
    const ok = await fetch(a.client.url + path, {
      headers: { origin: ORIGIN, authorization: `Bearer ${await a.client.bearer("GET", path)}` },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), "*");
    assert.equal(ok.headers.get("access-control-allow-credentials"), null);
    assert.ok(((await ok.json()) as { spaces: unknown[] }).spaces.length > 0);

    const refused = await fetch(a.client.url + path, { headers: { origin: ORIGIN } });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("access-control-allow-origin"), "*");
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /Bearer/);
  });

  it("open routes answer only their own origin: a web page cannot read the node's DID or pair", async () => {
    const identity = await fetch(a.client.url + "/v1/identity", { headers: { origin: ORIGIN } });
    assert.equal(identity.status, 200);
    assert.equal(identity.headers.get("access-control-allow-origin"), null);
    await identity.body?.cancel();
    for (const [path, method] of [["/v1/identity", "GET"], ["/v1/pair", "POST"], ["/healthz", "GET"]]) {
      const r = await preflight(path, method);
      assert.equal(r.headers.get("access-control-allow-origin"), null, `${method} ${path}`);
      assert.notEqual(r.status, 204, `${method} ${path}`);
      await r.body?.cancel();
    }
  });

  it("a same-origin request (no Origin header) gets no CORS headers", async () => {
    const path = "/v1/spaces";
    const r = await fetch(a.client.url + path, {
      headers: { authorization: `Bearer ${await a.client.bearer("GET", path)}` },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    await r.body?.cancel();
  });
});
