/**
 * A fuzz pass over every route: random and hostile paths, methods, headers
 * and bodies. The peer must answer each with a 4xx JSON error (never a 500,
 * never a crash, never a hang), and no state may change.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { ROUTES } from "../../peer/api/routes.ts";
import { stateDigest } from "../helpers/nodes.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";

const RUNS = Number(process.env.WEFT_PROPERTY_RUNS ?? 60) * 5;

describe("API fuzz", () => {
  let d: TestDaemon;
  let space: string;
  let validBearer: string;

  before(async () => {
    d = await testDaemon();
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
    await d.client.op(space, "create", { task: "aaaaaaaaaaaaaaaa", title: "keep me" });
    validBearer = await d.client.bearer("GET", "/v1/node");
  });
  after(() => d.stop());

  it("answers malformed percent-encoding with 400, on the dashboard and on routes", async () => {
    for (const path of ["/%ZZ", "/assets/%E0%A4%A", `/v1/spaces/${space}/tasks/%ZZ`]) {
      const res = await fetch(`${d.daemon.url}${path}`, { headers: { authorization: `Bearer ${validBearer}` } });
      await res.body?.cancel();
      assert.ok(res.status >= 400 && res.status < 500, `${path} -> ${res.status}`);
    }
  });

  it("never answers 500, never changes state", async () => {
    const digest = () => d.daemon.node.spaces().map(stateDigest).join("|");
    const before = digest();
    const segment = fc.oneof(
      fc.constant(space),
      fc.constant("aaaaaaaaaaaaaaaa"),
      fc.constant("bafyreigbnbwikmorhuy547tbmvx7lkodst262gvdicm6asdbtcpsq6sv3e"),
      fc.constantFrom("..", "%2e%2e", "%00", "did:key:zzz", "x".repeat(5000), "%F0%9F%92%A9", "%ZZ"),
      fc.string({ maxLength: 30 }).map(encodeURIComponent),
    );
    const path = fc.oneof(
      fc.tuple(
        fc.constantFrom(...ROUTES.filter((r) => !r.websocket)),
        fc.array(segment, { minLength: 3, maxLength: 3 }),
      )
        .map(([r, segs]) => {
          let i = 0;
          return r.path.replace(/:\w+/g, () => segs[i++]);
        }),
      fc.array(segment, { maxLength: 6 }).map((s) => "/" + s.join("/")),
    );
    const query = fc.oneof(
      fc.constant(""),
      fc.constantFrom(
        "?status=open",
        "?status=bogus",
        "?limit=-1",
        "?runnable=maybe",
        "?x=1",
        "?label=" + "l".repeat(100),
      ),
    );
    const json = fc.jsonValue({ maxDepth: 4 });
    const deep = fc.integer({ min: 100, max: 5000 }).map((n) => "[".repeat(n) + "]".repeat(n));
    const body = fc.oneof(
      fc.constant(undefined),
      json.map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 2000 }).map((b) => new TextDecoder().decode(b)),
      deep,
      fc.constant(JSON.stringify({ name: "x".repeat(300) })),
      fc.constant(JSON.stringify({ invite: "weft-invite:" + "A".repeat(2000) })),
      fc.constant(JSON.stringify({ address: "/ip4/8.8.8.8/tcp/1" })),
      fc.constant(JSON.stringify({ audience: "did:key:z6Mk", command: "/" })),
    );
    const auth = fc.oneof(
      fc.constant(undefined),
      fc.constant(`Bearer ${validBearer}`),
      fc.string({ maxLength: 200 }).map((s) => `Bearer C${s}`),
      fc.uint8Array({ maxLength: 300 }).map((b) => `Bearer B${btoa(String.fromCharCode(...b))}`),
      fc.constant("Bearer " + "C".repeat(100_000)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"),
        path,
        query,
        body,
        auth,
        fc.constantFrom(
          "application/json",
          "text/plain",
          "application/x-www-form-urlencoded",
          "",
          "application/json; charset=utf-16",
        ),
        async (method, p, q, b, a, ct) => {
          const res = await fetch(d.client.url + p + q, {
            method,
            headers: { ...(a ? { authorization: a } : {}), ...(ct ? { "content-type": ct } : {}) },
            ...(b !== undefined && method !== "GET" ? { body: b } : {}),
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          assert.ok(res.status < 500, `${method} ${p}${q} -> ${res.status} ${text.slice(0, 300)}`);
          // 431 (headers too large) comes from the HTTP server itself, before the app.
          if (res.status >= 400 && res.status !== 405 && res.status !== 431) {
            const parsed = JSON.parse(text);
            assert.equal(typeof parsed.error?.code, "string", text.slice(0, 200));
          }
        },
      ),
      { numRuns: RUNS },
    );
    assert.equal((await fetch(`${d.client.url}/healthz`)).status, 200, "still serving");
    assert.equal(digest(), before, "no state changed");
  });
});
