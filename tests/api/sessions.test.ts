/**
 * API sessions against a real daemon: one signed bearer opens a session,
 * later queries carry a MAC under its key. Each check the peer makes on a
 * session request has a test that fails without it: a replayed counter, a
 * changed path, query or body, a session the peer forgot in a restart, a
 * chain revoked (in the space, and node-wide) or lapsed behind it, a route
 * its command does not cover, a policy its chain sets. And the API client
 * uses sessions by itself, opening a new one when the peer forgot its own.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import { ApiClient } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import { requestArgs } from "../../peer/api/request.ts";
import { sessionAuthorization } from "../../peer/api/session-crypto.ts";
import { startDaemon } from "../../peer/daemon/daemon.ts";
import { loadConfig } from "../../peer/daemon/config.ts";
import { createLogger } from "../../peer/daemon/logger.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { delegationIn, signer } from "../helpers/principals.ts";
import { type Holder, type Opened, openRaw, openSession as open } from "../helpers/api-session.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";

const enc = encodeURIComponent;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Send the bearer that opened `s` again, with its body: [status, error code]. */
async function reopen(url: string, s: Opened): Promise<[number, string]> {
  const res = await fetch(`${url}/v1/sessions`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.bearer}`, "content-type": "application/json" },
    body: s.body,
  });
  return [res.status, (await res.json()).error?.code];
}

/** Send a request MAC'd under `s` as number `n`; resolves to [status, error code or undefined]. */
async function send(
  url: string,
  s: Opened,
  n: number,
  method: string,
  path: string,
  body?: string,
  /** Send this instead of what was MAC'd (method, path and body stay as MAC'd otherwise). */
  sent: { path?: string; body?: string } = {},
): Promise<[number, string | undefined]> {
  const bytes = body === undefined ? undefined : utf8(body);
  const authorization = sessionAuthorization(s.key, s.id, n, requestArgs(method, path, bytes));
  const out = sent.body ?? body;
  const res = await fetch(url + (sent.path ?? path), {
    method,
    headers: { authorization, ...(out === undefined ? {} : { "content-type": "application/json" }) },
    ...(out === undefined ? {} : { body: out }),
  });
  const json = await res.json();
  return [res.status, json.error?.code];
}

/** The peer's count of open sessions, from /metrics. */
async function openSessions(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^weft_api_sessions (\d+)$/m.exec(text)![1]);
}

describe("API sessions", () => {
  let d: TestDaemon;
  let creds: Credentials;
  let space: string;
  let chain: string[];
  let cli: { node: Holder; space: Holder };

  before(async () => {
    d = await testDaemon();
    creds = await loadCredentials(d.home);
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
    space = spaces[0].id;
    chain = spaces[0].chain;
    cli = {
      node: { signer: creds.signer, proofs: [creds.nodeDelegation], carried: [creds.nodeDelegation] },
      space: {
        signer: creds.signer,
        proofs: [...chain.map((c) => CID.parse(c)), creds.powerline],
        carried: [creds.powerline],
      },
    };
  });
  after(() => d.stop());

  /** A key holding `command` in the space from the node (with `policy`, until `expiration`), and its delegation's CID. */
  async function member(command: string, options: { policy?: unknown[]; expiration?: number } = {}) {
    const key = await signer();
    const r = await d.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      { audience: key.did, command, name: "member", ...options },
    );
    const last = await delegationIn(r.container, r.cid);
    const holder: Holder = { signer: key, proofs: [...chain.map((c) => CID.parse(c)), last], carried: [last] };
    return { holder, cid: r.cid, delegation: last, key };
  }

  it("a MAC'd request is answered once: the same counter again, or one too far behind, is refused", async () => {
    const s = await open(creds.url, creds.node, cli.node, creds.node, "/weft/node");
    assert.deepEqual(await send(creds.url, s, 1, "GET", "/v1/node"), [200, undefined]);
    assert.deepEqual(await send(creds.url, s, 1, "GET", "/v1/node"), [401, "auth/session-replayed"]);
    // Out of order within the window is fine, each counter once.
    assert.deepEqual(await send(creds.url, s, 5, "GET", "/v1/node"), [200, undefined]);
    assert.deepEqual(await send(creds.url, s, 3, "GET", "/v1/node"), [200, undefined]);
    assert.deepEqual(await send(creds.url, s, 3, "GET", "/v1/node"), [401, "auth/session-replayed"]);
    assert.deepEqual(await send(creds.url, s, 5000, "GET", "/v1/node"), [200, undefined]);
    assert.deepEqual(await send(creds.url, s, 4, "GET", "/v1/node"), [401, "auth/session-replayed"], "too old");
    // The opening bearer is single-use like any other.
    assert.deepEqual(await reopen(creds.url, s), [401, "auth/replayed"]);
  });

  it("a request whose method, path, query or body differs from what was MAC'd is refused", async () => {
    const s = await open(creds.url, creds.node, cli.space, space, "/weft");
    const tasks = `/v1/spaces/${enc(space)}/tasks`;
    assert.deepEqual(
      await send(creds.url, s, 1, "GET", `${tasks}?limit=20`, undefined, { path: `${tasks}?limit=21` }),
      [
        401,
        "auth/session-mac",
      ],
    );
    assert.deepEqual(
      await send(creds.url, s, 1, "GET", tasks, undefined, { path: `/v1/spaces/${enc(space)}/members` }),
      [401, "auth/session-mac"],
    );
    const invites = `/v1/spaces/${enc(space)}/invites`;
    assert.deepEqual(
      await send(creds.url, s, 1, "POST", invites, '{"name":"a"}', { body: '{"name":"b"}' }),
      [401, "auth/session-mac"],
    );
    // A MAC made with another key (another session's) does not pass either.
    const other = await open(creds.url, creds.node, cli.space, space, "/weft");
    assert.deepEqual(await send(creds.url, { ...other, id: s.id }, 1, "GET", tasks), [401, "auth/session-mac"]);
    // Refusals took no counter: number 1 is still good for the request it was MAC'd for.
    assert.deepEqual(await send(creds.url, s, 1, "POST", invites, '{"name":"a"}'), [201, undefined]);
    assert.deepEqual(await send(creds.url, s, 2, "GET", `${tasks}?limit=20`), [200, undefined]);
    const garbled = await fetch(creds.url + tasks, { headers: { authorization: `WeftSession ${s.id}.1.short` } });
    assert.equal(garbled.status, 401);
  });

  it("a session acts only on its subject, for the command its bearer invoked and those below it", async () => {
    const read = await open(creds.url, creds.node, cli.space, space, Commands.spaceRead);
    assert.deepEqual(await send(creds.url, read, 1, "GET", `/v1/spaces/${enc(space)}/tasks`), [200, undefined]);
    assert.deepEqual(
      await send(creds.url, read, 2, "POST", `/v1/spaces/${enc(space)}/invites`, '{"name":"x"}'),
      [403, "auth/session-scope"],
    );
    assert.deepEqual(await send(creds.url, read, 3, "GET", "/v1/node"), [403, "auth/session-scope"]);
    const other = await d.client.request<{ id: string }>("POST", "/v1/spaces", { name: "another" });
    assert.deepEqual(await send(creds.url, read, 4, "GET", `/v1/spaces/${enc(other.id)}/tasks`), [
      403,
      "auth/session-scope",
    ]);
    // A key holding only read cannot open a session for more.
    const reader = await member(Commands.spaceRead);
    const wider = await openRaw(creds.url, creds.node, reader.holder, space, "/weft");
    assert.equal(wider.res.status, 403);
    assert.equal((await wider.res.json()).error.code, "ucan/invalid-claim");
    const ok = await open(creds.url, creds.node, reader.holder, space, Commands.spaceRead);
    assert.deepEqual(await send(creds.url, ok, 1, "GET", `/v1/spaces/${enc(space)}/members`), [200, undefined]);
  });

  it("the chain's policies hold for every request of the session, as for a bearer naming it", async () => {
    const members = `/v1/spaces/${enc(space)}/members`;
    const { holder } = await member(Commands.spaceRead, { policy: [["!=", ".path", members]] });
    const s = await open(creds.url, creds.node, holder, space, Commands.spaceRead);
    assert.deepEqual(await send(creds.url, s, 1, "GET", `/v1/spaces/${enc(space)}/tasks`), [200, undefined]);
    assert.deepEqual(await send(creds.url, s, 2, "GET", members), [403, "ucan/match-error"]);
  });

  it("revoking a delegation of its chain ends the session, in the space and node-wide", async () => {
    const tasks = `/v1/spaces/${enc(space)}/tasks`;
    const m = await member("/weft");
    const s = await open(creds.url, creds.node, m.holder, space, "/weft");
    assert.deepEqual(await send(creds.url, s, 1, "GET", tasks), [200, undefined]);
    await d.client.request("DELETE", `/v1/spaces/${enc(space)}/capabilities/${m.cid}`);
    assert.deepEqual(await send(creds.url, s, 2, "GET", tasks), [403, "ucan/revoked"]);
    assert.deepEqual(await send(creds.url, s, 3, "GET", tasks), [401, "auth/session-unknown"], "it has ended");

    // A powerline this node issued, revoked by the node alone (the space never hears of it).
    const key = await signer();
    const granted = await d.client.request<{ cid: string; container: string; chains: Record<string, string[]> }>(
      "POST",
      "/v1/capabilities",
      { audience: key.did, command: "/weft", name: "powerline" },
    );
    const powerline = await delegationIn(granted.container, granted.cid);
    const viaPowerline: Holder = {
      signer: key,
      proofs: granted.chains[space].map((c) => CID.parse(c)),
      carried: [powerline],
    };
    const p = await open(creds.url, creds.node, viaPowerline, space, "/weft");
    assert.deepEqual(await send(creds.url, p, 1, "GET", tasks), [200, undefined]);
    await d.client.request("DELETE", `/v1/capabilities/${granted.cid}`);
    assert.deepEqual(await send(creds.url, p, 2, "GET", tasks), [403, "ucan/revoked"]);
  });

  it("a session ends with the chain behind it", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const m = await member(Commands.spaceRead, { expiration: exp });
    const s = await open(creds.url, creds.node, m.holder, space, Commands.spaceRead);
    assert.ok(s.endsAt <= (exp + 1) * 1000, `ends at ${s.endsAt}, the chain at ${exp}`);
    assert.deepEqual(await send(creds.url, s, 1, "GET", `/v1/spaces/${enc(space)}/tasks`), [200, undefined]);
    await new Promise((r) => setTimeout(r, s.endsAt - Date.now() + 50));
    assert.deepEqual(await send(creds.url, s, 2, "GET", `/v1/spaces/${enc(space)}/tasks`), [
      401,
      "auth/session-unknown",
    ]);
  });

  it("a key that is not an X25519 public key opens nothing", async () => {
    const zero = Buffer.alloc(32).toString("base64url");
    const { res } = await openRaw(creds.url, creds.node, cli.node, creds.node, "/weft/node", zero);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "key/invalid");
  });

  it("the API client opens one session per subject and uses it; with sessions off it signs each query", async () => {
    const client = new ApiClient(creds);
    const before = await openSessions(creds.url);
    await Promise.all(Array.from({ length: 8 }, () => client.get(`/v1/spaces/${enc(space)}/tasks`)));
    await client.get("/v1/node");
    assert.equal(await openSessions(creds.url), before + 2, "one for the space, one for the node");
    const signing = new ApiClient(creds, creds.url, {}, { sessions: false });
    await signing.get(`/v1/spaces/${enc(space)}/tasks`);
    assert.equal(await openSessions(creds.url), before + 2);
  });
});

describe("API sessions across a restart", () => {
  it("a session is unknown after the peer restarts, the client opens a new one, and a key rotation ends it", async () => {
    const home = await mkdtemp(join(tmpdir(), "weft-sessions-"));
    const env = {
      WEFT_HOME: home,
      WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
      WEFT_LOG_LEVEL: "error",
    };
    let daemon = await startDaemon(await loadConfig({ ...env, WEFT_HTTP_PORT: "0" }), createLogger("error", () => {}));
    try {
      const port = new URL(daemon.url).port;
      const creds = await loadCredentials(home);
      const client = new ApiClient(creds, daemon.url);
      await client.get("/v1/node");
      const holder: Holder = { signer: creds.signer, proofs: [creds.nodeDelegation], carried: [creds.nodeDelegation] };
      const s = await open(daemon.url, creds.node, holder, creds.node, "/weft/node");
      assert.deepEqual(await send(daemon.url, s, 1, "GET", "/v1/node"), [200, undefined]);
      assert.equal(await openSessions(daemon.url), 2);

      await daemon.stop();
      daemon = await startDaemon(await loadConfig({ ...env, WEFT_HTTP_PORT: port }), createLogger("error", () => {}));
      assert.deepEqual(await send(daemon.url, s, 2, "GET", "/v1/node"), [401, "auth/session-unknown"]);
      assert.deepEqual(await reopen(daemon.url, s), [401, "auth/replayed"], "the bearer that opened it stays used");
      assert.equal(await openSessions(daemon.url), 0);
      const node = await client.get<{ did: string }>("/v1/node");
      assert.equal(node.did, creds.node);
      assert.equal(await openSessions(daemon.url), 1, "the client opened a new session");

      // Rotating the CLI's key revokes its node delegation in this node's own records (no space holds
      // a delegation on the node): a session that delegation opened ends with it.
      const s2 = await open(daemon.url, creds.node, holder, creds.node, "/weft/node");
      assert.deepEqual(await send(daemon.url, s2, 1, "GET", "/v1/node"), [200, undefined]);
      await client.request("POST", "/v1/cli-key");
      assert.deepEqual(await send(daemon.url, s2, 2, "GET", "/v1/node"), [403, "ucan/revoked"]);
    } finally {
      await daemon.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});
