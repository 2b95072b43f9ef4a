/**
 * What a caller can make the node sign, against a real daemon in two
 * spaces: an admin of one space cannot get a node-wide powerline and act
 * as the node in the other; an invite or a delegation never carries more
 * than the caller holds; commands that read like paths are refused.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiClient, type ApiError } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { delegationIn, signer } from "../helpers/principals.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";

const enc = encodeURIComponent;

/** The status and code a call ends with (201/200 and "" when it succeeds). */
async function outcome(call: Promise<unknown>): Promise<[number, string]> {
  try {
    await call;
    return [200, ""];
  } catch (e) {
    return [(e as ApiError).status, (e as ApiError).code];
  }
}

describe("API authority: the node signs only what the caller holds", () => {
  let d: TestDaemon;
  let creds: Credentials;
  /** The space the attacker administers, and the one where it may only comment. */
  let s: string;
  let z: string;
  const chains: Record<string, string[]> = {};

  before(async () => {
    d = await testDaemon();
    creds = await loadCredentials(d.home);
    z = (await d.client.request<{ id: string }>("POST", "/v1/spaces", { name: "zeta" })).id;
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string; name: string; chain: string[] }> }>(
      "/v1/spaces",
    );
    for (const sp of spaces) chains[sp.id] = sp.chain;
    s = spaces.find((sp) => sp.name === "personal")!.id;
  });
  after(() => d.stop());

  /** Have the node's operator delegate `command` in `space` to `key`; a client acting on it. */
  async function holding(key: Signer, space: string, command: string): Promise<{ client: ApiClient; d: Delegation }> {
    const r = await d.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      {
        audience: key.did,
        command,
        name: `holds ${command}`,
      },
    );
    const last = await delegationIn(r.container, r.cid);
    const c: Credentials = { url: creds.url, node: creds.node, signer: key, nodeDelegation: last, powerline: last };
    return { client: new ApiClient(c, creds.url, { [space]: chains[space] }), d: last };
  }

  async function tasksIn(space: string): Promise<Array<{ id: string }>> {
    return (await d.client.get<{ tasks: Array<{ id: string }> }>(`/v1/spaces/${enc(space)}/tasks`)).tasks;
  }

  it("an admin of one space cannot get a powerline and act as the node in another", async () => {
    const attacker = await signer();
    const { client: inS } = await holding(attacker, s, Commands.spaceAdmin);
    const { client: inZ } = await holding(attacker, z, Commands.taskComment);
    const tasksBefore = (await tasksIn(z)).length;

    // The attack: ask for a powerline through the space it administers…
    let powerline: Delegation | undefined;
    const asked = await outcome(
      inS.request<{ cid: string; container: string }>("POST", `/v1/spaces/${enc(s)}/capabilities`, {
        audience: attacker.did,
        command: "/weft",
        powerline: true,
      }).then(async (r) => {
        powerline = await delegationIn(r.container, r.cid);
      }),
    );
    // …or through the node-wide route, with its space delegation as proof.
    const nodeWide = await outcome(
      inS.request("POST", "/v1/capabilities", { audience: attacker.did, command: "/weft" }),
    );
    // With a powerline, it would create a task in Z and invite itself as a full member there.
    let created: [number, string] = [403, "no powerline"];
    let invited: [number, string] = [403, "no powerline"];
    if (powerline) {
      const c: Credentials = {
        url: creds.url,
        node: creds.node,
        signer: attacker,
        nodeDelegation: powerline,
        powerline,
      };
      const asNode = new ApiClient(c, creds.url, { [z]: chains[z] });
      created = await outcome(asNode.op(z, "create", { task: newTaskId(), title: "planted" }));
      invited = await outcome(
        asNode.request("POST", `/v1/spaces/${enc(z)}/invites`, { audience: attacker.did, command: "/weft" }),
      );
    }
    assert.deepEqual(asked, [403, "cap/node-wide"], "a space admin right does not make a powerline");
    assert.equal(nodeWide[0], 403, "the node-wide route needs /weft/node/admin on the node");
    assert.deepEqual(created[0], 403, `created a task in Z: ${created}`);
    assert.deepEqual(invited[0], 403, `invited itself into Z: ${invited}`);
    // In Z it still only comments.
    assert.equal((await outcome(inZ.op(z, "create", { task: newTaskId(), title: "x" })))[0], 403);
    assert.equal((await tasksIn(z)).length, tasksBefore, "nothing was created in Z");
    const { members } = await d.client.get<{ members: Array<{ did: string; commands: string[] }> }>(
      `/v1/spaces/${enc(z)}/members`,
    );
    assert.deepEqual(members.find((m) => m.did === attacker.did)?.commands, [Commands.taskComment]);
  });

  it("a node admin still makes powerlines, node-wide, and their holder acts in every space", async () => {
    const agent = await signer();
    const r = await d.client.request<{ cid: string; chains: Record<string, string[]>; container: string }>(
      "POST",
      "/v1/capabilities",
      { audience: agent.did, command: "/weft/task", name: "agent" },
    );
    assert.deepEqual(Object.keys(r.chains).sort(), [s, z].sort());
    const powerline = await delegationIn(r.container, r.cid);
    assert.equal(powerline.sub, null);
    const c: Credentials = { url: creds.url, node: creds.node, signer: agent, nodeDelegation: powerline, powerline };
    const client = new ApiClient(c, creds.url, { [z]: r.chains[z].slice(0, -1) });
    const t = await client.op<"create", { id: string }>(z, "create", { task: newTaskId(), title: "by the agent" });
    assert.ok((await tasksIn(z)).some((x) => x.id === t.id));
  });

  it("an invite or a delegation carries no more than its caller holds", async () => {
    const admin = await signer();
    const other = await signer();
    const { client } = await holding(admin, s, Commands.spaceAdmin);
    for (const command of ["/weft", Commands.taskCreate]) {
      assert.deepEqual(
        await outcome(
          client.request("POST", `/v1/spaces/${enc(s)}/capabilities`, { audience: other.did, command }),
        ),
        [403, "cap/not-held"],
      );
      assert.deepEqual(
        await outcome(client.request("POST", `/v1/spaces/${enc(s)}/invites`, { audience: admin.did, command })),
        [403, "cap/not-held"],
      );
    }
    // The default invite is for everything in the space: not this admin's to give.
    assert.deepEqual(
      await outcome(client.request("POST", `/v1/spaces/${enc(s)}/invites`, { name: "link" })),
      [403, "cap/not-held"],
    );
    // What it holds, it may pass on.
    const ok = await client.request<{ cid: string }>("POST", `/v1/spaces/${enc(s)}/capabilities`, {
      audience: other.did,
      command: Commands.spaceAdmin,
    });
    assert.ok(ok.cid);
    await client.request("POST", `/v1/spaces/${enc(s)}/invites`, { command: Commands.spaceAdmin, name: "co-admin" });
  });

  it("a delegation outlives neither its caller's expiry nor its policies", async () => {
    const admin = await signer();
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const r = await d.client.request<{ cid: string; container: string }>("POST", `/v1/spaces/${enc(s)}/capabilities`, {
      audience: admin.did,
      command: "/weft",
      expiration: exp,
      policy: [["!=", ".method", "DELETE"]],
    });
    const last = await delegationIn(r.container, r.cid);
    const c: Credentials = { url: creds.url, node: creds.node, signer: admin, nodeDelegation: last, powerline: last };
    const client = new ApiClient(c, creds.url, { [s]: chains[s] });
    const other = await signer();
    assert.deepEqual(
      await outcome(client.request("POST", `/v1/spaces/${enc(s)}/capabilities`, {
        audience: other.did,
        command: Commands.taskComment,
        expiration: exp + 1,
      })),
      [403, "cap/exceeds"],
    );
    const made = await client.request<{ cid: string; container: string }>("POST", `/v1/spaces/${enc(s)}/capabilities`, {
      audience: other.did,
      command: Commands.taskComment,
    });
    const given = await delegationIn(made.container, made.cid);
    assert.equal(given.exp, exp, "it expires with its caller's delegation");
    assert.deepEqual(given.pol.source, [["!=", ".method", "DELETE"]], "it carries its caller's policy");
  });

  it("400 for commands with empty, . or .. segments", async () => {
    const someone = await signer();
    for (const command of ["/weft/..", "/weft/./task", "/weft/../weft", "/weft//task", "/weft/"]) {
      for (const path of [`/v1/spaces/${enc(s)}/capabilities`, `/v1/spaces/${enc(s)}/invites`]) {
        const [status, code] = await outcome(d.client.request("POST", path, { audience: someone.did, command }));
        assert.deepEqual([status, code], [400, "input/invalid"], `${path} ${command}`);
      }
    }
  });
});
