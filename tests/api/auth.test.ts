/**
 * API authorization failures, each with the status and code a client can
 * act on: no token, garbage, expired, wrong space, revoked, escalated,
 * replayed, bound to another request, body not matching the signature.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiClient, type ApiError } from "../../peer/api/client.ts";
import type { Credentials } from "../../peer/api/credentials.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { requestArgs } from "../../peer/api/request.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { delegationIn, signer } from "../helpers/principals.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { CID } from "multiformats/cid";

const enc = encodeURIComponent;

async function status(res: Promise<Response>): Promise<[number, string]> {
  const r = await res;
  const body = await r.json();
  return [r.status, body.error?.code];
}

describe("API authorization", () => {
  let d: TestDaemon;
  let creds: Credentials;
  let space: string;
  let chain: string[];

  before(async () => {
    d = await testDaemon();
    creds = await loadCredentials(d.home);
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
    space = spaces[0].id;
    chain = spaces[0].chain;
  });
  after(() => d.stop());

  /** A client for a principal holding `delegation` (from the node) in the space. */
  async function clientWith(command: string, policy?: unknown[]) {
    const key = await signer();
    const r = await d.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      {
        audience: key.did,
        command,
        ...(policy ? { policy } : {}),
        name: command,
      },
    );
    const last = await delegationIn(r.container, r.cid);
    const c: Credentials = { url: creds.url, node: creds.node, signer: key, nodeDelegation: last, powerline: last };
    return { client: new ApiClient(c, creds.url, { [space]: chain }), cid: r.cid, key, delegation: last };
  }

  it("401 without a token, with garbage, when expired or replayed", async () => {
    const url = `${creds.url}/v1/node`;
    assert.deepEqual(await status(fetch(url)), [401, "auth/missing"]);
    assert.deepEqual(await status(fetch(url, { headers: { authorization: "Bearer Cnot-a-container" } })), [
      401,
      "ucan/malformed",
    ]);
    assert.deepEqual(await status(fetch(url, { headers: { authorization: "Basic dXNlcjpwYXNz" } })), [
      401,
      "ucan/malformed",
    ]);
    const now = Math.floor(Date.now() / 1000);
    const expired = await invoke({
      issuer: creds.signer,
      audience: creds.node,
      subject: creds.node,
      command: Commands.nodeRead,
      args: requestArgs("GET", "/v1/node"),
      proofs: [creds.nodeDelegation],
      expiration: now - 5,
    });
    const bearer = await encodeContainer([expired.bytes, creds.nodeDelegation.bytes], "C");
    assert.deepEqual(await status(fetch(url, { headers: { authorization: `Bearer ${bearer}` } })), [
      401,
      "ucan/expired",
    ]);
    const once = await d.client.bearer("GET", "/v1/node");
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${once}` } })).status, 200);
    assert.deepEqual(await status(fetch(url, { headers: { authorization: `Bearer ${once}` } })), [
      401,
      "auth/replayed",
    ]);
  });

  it("403 when the invocation names another request, another audience, another space, or lives too long", async () => {
    const forNode = await d.client.bearer("GET", "/v1/node");
    assert.deepEqual(
      await status(fetch(`${creds.url}/v1/peers`, { headers: { authorization: `Bearer ${forNode}` } })),
      [403, "ucan/invalid-claim"],
    );
    const other = await d.client.request<{ id: string }>("POST", "/v1/spaces", { name: "other" });
    const wrongSpace = await d.client.bearer("GET", `/v1/spaces/${enc(other.id)}/tasks`);
    assert.equal(
      (await fetch(`${creds.url}/v1/spaces/${enc(space)}/tasks`, {
        headers: { authorization: `Bearer ${wrongSpace}` },
      })).status,
      403,
    );
    const now = Math.floor(Date.now() / 1000);
    for (
      const [audience, exp, code] of [[undefined, now + 60, "ucan/invalid-audience"], [
        creds.node,
        now + 86_400,
        "ucan/invalid-payload",
      ]] as const
    ) {
      const inv = await invoke({
        issuer: creds.signer,
        ...(audience ? { audience } : {}),
        subject: creds.node,
        command: Commands.nodeRead,
        args: requestArgs("GET", "/v1/node"),
        proofs: [creds.nodeDelegation],
        expiration: exp,
      });
      const bearer = await encodeContainer([inv.bytes, creds.nodeDelegation.bytes], "C");
      const [s, c] = await status(fetch(`${creds.url}/v1/node`, { headers: { authorization: `Bearer ${bearer}` } }));
      assert.equal(c, code);
      assert.ok(s === 403 || s === 401, `${s}`);
    }
  });

  it("403 for escalation: a comment-only key cannot create, invite, or widen what it passes on", async () => {
    const { client, key, delegation } = await clientWith(Commands.taskComment, [["like", ".body", "lgtm*"]]);
    const t = await d.client.op<"create", { id: string }>(space, "create", { task: newTaskId(), title: "x" });
    await client.op(space, "comment", { task: t.id, body: "lgtm, ship it" });
    await assert.rejects(client.op(space, "comment", { task: t.id, body: "nope" }), (e: ApiError) => e.status === 403);
    await assert.rejects(
      client.op(space, "create", { task: newTaskId(), title: "y" }),
      (e: ApiError) => e.status === 403,
    );
    await assert.rejects(
      client.request("POST", `/v1/spaces/${enc(space)}/invites`, { name: "z" }),
      (e: ApiError) => e.status === 403,
    );
    // It re-delegates more than it holds; the grandchild's operations are refused.
    const grandchild = await signer();
    const wider = await delegate({
      issuer: key,
      audience: grandchild.did,
      subject: space,
      command: "/weft",
      expiration: null,
    });
    const c3: Credentials = {
      url: creds.url,
      node: creds.node,
      signer: grandchild,
      nodeDelegation: wider,
      powerline: wider,
    };
    const escalated = new ApiClient(c3, creds.url, { [space]: [...chain, delegation.cid.toString()] });
    await assert.rejects(
      escalated.op(space, "create", { task: newTaskId(), title: "z" }),
      (e: ApiError) => e.status === 403,
    );
    const { tasks } = await d.client.get<{ tasks: unknown[] }>(`/v1/spaces/${enc(space)}/tasks`);
    assert.equal(tasks.length, 1, "nothing was created by the escalations");
  });

  it("403 once revoked, for queries and operations alike", async () => {
    const { client, cid } = await clientWith("/weft");
    const t = await client.op<"create", { id: string }>(space, "create", { task: newTaskId(), title: "before" });
    await client.get(`/v1/spaces/${enc(space)}/tasks/${t.id}`);
    await d.client.request("DELETE", `/v1/spaces/${enc(space)}/capabilities/${cid}`);
    await assert.rejects(client.op(space, "comment", { task: t.id, body: "after" }), (e: ApiError) => e.status === 403);
    await assert.rejects(client.get(`/v1/spaces/${enc(space)}/tasks`), (e: ApiError) => e.status === 403);
  });

  it("400 when a body contradicts the signed operation; the operation is not applied", async () => {
    const id = newTaskId();
    const inv = await invoke({
      issuer: creds.signer,
      subject: space,
      command: Commands.taskCreate,
      args: { task: id, title: "signed title", at: [Date.now(), 0] },
      proofs: [...chain.map((c) => CID.parse(c)), creds.powerline],
      expiration: null,
    });
    const bearer = await encodeContainer([inv.bytes, creds.powerline.bytes], "C");
    const res = await fetch(`${creds.url}/v1/spaces/${enc(space)}/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ task: id, title: "a different title" }),
    });
    assert.equal(res.status, 400);
    await assert.rejects(d.client.get(`/v1/spaces/${enc(space)}/tasks/${id}`), (e: ApiError) => e.status === 404);
  });
});
