/**
 * Approval gates on real peer processes, with agents the daemon runs by
 * itself. The space's admin gates pushes to refs/heads/agent/*. Agent
 * `fixer` on peer a (made with `weft agent add --run`, driven by a recorded
 * model — a scripted OpenAI-compatible server replaying a conversation,
 * not a live model) picks the task by itself, fixes the bug, runs the
 * tests in a container and then, before its push, asks for approval: the
 * request carries the plan in full (the commit, the ref, the diff) and its
 * hash, and `weft agent status` shows what it waits for. Forged answers
 * are refused on every node: one naming the wrong plan hash (it reaches
 * the log from peer b, and both nodes refuse it), one signed by a member
 * without the approve right (refused by each node it is sent to). A person
 * on peer b approves with `weft agent approve`; the loop pushes and
 * proposes on a. A second task is denied from b: the loop comments with
 * the reason and releases the task, and does not take it up again. A third
 * is waiting for approval when peer a stops: on restart the agent takes
 * the task up again under the same lease and finishes it once approved.
 * Pausing the agent stops its driver until it is resumed.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../helpers/nodes.ts";
import { killPeer, type PeerProcess, startPeer, weft } from "../helpers/peer-process.ts";
import { type GatedFixer, gatedFixer, printRigIfFailed, weftJson as json } from "../helpers/agent-loop-rig.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { decodeInvite } from "../../protocol/space/invite.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { decodeDelegation } from "../../protocol/ucan/delegation.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";

const enc = encodeURIComponent;

interface Request {
  id: string;
  kind: string;
  status: string;
  plan: string;
  hash: string;
  refs?: string[];
  author: string;
  answer?: { op: string; by: string; reason?: string };
}
interface Status {
  agents: {
    name: string;
    auto?: { state: string };
    loop?: { step: string; task?: string; approval?: { request: string }; lease?: { fence: number } };
  }[];
}

describe("approval gates, answered from another peer, for an agent the daemon runs", { timeout: 900_000 }, () => {
  let a: PeerProcess, b: PeerProcess;
  let space: string;
  let agentDid: string;

  const pending = async (p: PeerProcess, not: string[] = []) =>
    (await (await p.api()).get<{ requests: Request[] }>(`/v1/spaces/${enc(space)}/approvals?status=pending`))
      .requests.find((r) => !not.includes(r.id));
  const request = async (p: PeerProcess, id: string) =>
    await (await p.api()).get<Request>(`/v1/spaces/${enc(space)}/approvals/${id}`).catch(() => undefined);
  const task = async (p: PeerProcess, id: string) =>
    await (await p.api()).get<{ status: string; comments: { body: string }[]; history: { kind: string }[] }>(
      `/v1/spaces/${enc(space)}/tasks/${id}`,
    );
  const status = async () =>
    await (await a.api()).get<Status["agents"][number]>(`/v1/spaces/${enc(space)}/agents/fixer`);
  const addTask = async (title: string) =>
    (await json<{ id: string }>(a, "task", "add", title, "--label", "bug", "--label", "repo:demo", "--space", space))
      .id;

  let rig: GatedFixer;

  before(async () => {
    rig = await gatedFixer(["--push", "refs/heads/agent/*"]);
    ({ a, b, space, agentDid } = rig);
  });
  afterEach((t) => printRigIfFailed(t, rig));
  after(() => rig?.stop());

  it("asks before its push; forged answers are refused everywhere; b approves and a proposes", async () => {
    const id = await addTask("add 2 3 should be 5");
    // The daemon's loop picks the task by itself and stops at the gate; b sees the request.
    const asked = (await eventually(() => pending(b), 240_000, "the push request on b"))!;
    assert.equal(asked.kind, "push");
    assert.equal(asked.author, agentDid);
    assert.deepEqual(asked.refs, [`refs/heads/agent/fixer/${id}`]);
    assert.match(asked.plan, new RegExp(`Push [0-9a-f]{40} to refs/heads/agent/fixer/${id}`));
    assert.match(asked.plan, /\+add\(\) \{ echo \$\(\(\$1 \+ \$2\)\); \}/, "the plan shows the change in full");
    const shown = (await json<Status>(a, "agent", "status", "fixer", "--space", space)).agents[0];
    assert.equal(shown.auto?.state, "working");
    assert.equal(shown.loop?.step, "approving");
    assert.equal(shown.loop?.task, id);
    assert.equal(shown.loop?.approval?.request, asked.id);

    // A wrong plan hash, signed by b's person (who holds the right): written to the request's log on b and refused
    // there; it reaches a with the request's log, and a refuses it too — else a's answer, below, would be this one
    // (the first in log order stands), not the real approval that comes after it.
    const apiB = await b.api();
    await assert.rejects(
      apiB.approvalOp(space, "approve", { request: asked.id, hash: "0".repeat(64), expires: Date.now() + 3_600_000 }),
      /names plan hash 0{64}/,
    );

    // A member who may only work on tasks signs a correct approval: each node it is sent to refuses it.
    const stranger = nativeSigner(generateSeed());
    const invite = decodeInvite(
      await weft(a, "space", "invite", "--to", stranger.did, "--command", Commands.task, "--space", space),
    );
    const forged = await invoke({
      issuer: stranger,
      subject: space,
      command: Commands.approvalApprove,
      args: { request: asked.id, hash: asked.hash, expires: Date.now() + 3_600_000, at: [Date.now(), 0] } as Record<
        string,
        Ipld
      >,
      proofs: invite.tokens.map((t) => decodeDelegation(t)),
      expiration: null,
    });
    const bearer = await encodeContainer([forged.bytes, ...invite.tokens], "C");
    for (const p of [a, b]) {
      const url = (await p.api()).url;
      await eventually(
        async () => {
          const res = await fetch(`${url}/v1/spaces/${enc(space)}/approvals/${asked.id}/approve`, {
            method: "POST",
            headers: { authorization: `Bearer ${bearer}` },
          });
          await res.body?.cancel();
          // 403 once the node holds the stranger's delegation (before: 401, not yet known).
          return res.status === 403;
        },
        30_000,
        "the stranger's approval refused",
      );
    }
    assert.equal((await request(a, asked.id))?.status, "pending");
    assert.equal((await request(b, asked.id))?.status, "pending");

    // The person on b approves, bound to the hash of the plan b shows; a's loop goes on.
    await weft(b, "agent", "approve", asked.id, "--space", space);
    const done = (await eventually(
      async () => {
        const t = await task(b, id);
        return t.status === "done" ? t : undefined;
      },
      120_000,
      "the task done, seen on b",
    ))!;
    assert.ok(done.history.some((h) => h.kind === "result"));
    const approved = await request(a, asked.id);
    assert.equal(approved?.status, "approved");
    const answer = (await request(b, asked.id))?.answer?.op;
    assert.equal(approved?.answer?.op, answer, "both nodes keep the same answer: the real one, not the forged");
    const patches = await (await a.api()).get<{ patches: { author: string; tasks: string[] }[] }>(
      `/v1/spaces/${enc(space)}/patches`,
    );
    assert.ok(patches.patches.some((p) => p.author === agentDid && p.tasks.includes(id)), "the patch is proposed");
  });

  it("a denial from b: the loop comments with the reason, releases the task and leaves it", async () => {
    const earlier = (await json<{ requests: Request[] }>(a, "agent", "approvals", "--all", "--space", space))
      .requests.map((r) => r.id);
    const id = await addTask("add 2 3 should be 5, again");
    const asked = (await eventually(() => pending(b, earlier), 240_000, "the second request on b"))!;
    await weft(b, "agent", "deny", asked.id, "--reason", "not this branch today", "--space", space);
    const released = (await eventually(
      async () => {
        const t = await task(a, id);
        return t.status === "open" && t.comments.length > 0 ? t : undefined;
      },
      60_000,
      "the comment and the release",
    ))!;
    assert.match(released.comments[0].body, /denied request [a-z0-9]+: not this branch today/);
    // Back to idle, having looked at the open task and left it: it gave it back, and no one touched it since.
    await eventually(async () => (await status()).auto?.state === "idle", 60_000, "the agent idle");
    const claims = (await task(a, id)).history.filter((h) => h.kind === "claim").length;
    assert.equal(claims, 1, "it did not take the denied task up again");
  });

  it("pausing stops the driver until a resume", async () => {
    await weft(a, "agent", "pause", "fixer", "--reason", "lunch", "--space", space);
    await eventually(async () => (await status()).auto?.state === "paused", 30_000, "the driver paused");
    await weft(a, "agent", "resume", "fixer", "--space", space);
    await eventually(async () => (await status()).auto?.state === "idle", 60_000, "the driver idle again");
  });

  it("survives a restart of its peer: the task it held is taken up again under its lease", async () => {
    const seen = (await json<{ requests: Request[] }>(a, "agent", "approvals", "--all", "--space", space)).requests
      .map((r) => r.id);
    const id = await addTask("add 2 3 should be 5, once more");
    const first = (await eventually(() => pending(a, seen), 240_000, "the third request"))!;
    const fence = (await status()).loop?.lease?.fence;
    assert.ok(fence !== undefined && fence > 0);
    await killPeer(a); // as a crash would: nothing given back
    rig.a = a = await startPeer({}, a.home);
    // On restart the held task is renewed (not claimed again) and its work redone; a new request is made.
    const second = (await eventually(() => pending(a, [...seen, first.id]), 240_000, "the request after restart"))!;
    const t = await task(a, id);
    assert.equal(t.history.filter((h) => h.kind === "claim").length, 1, "the same lease, not a new claim");
    assert.equal((await status()).loop?.lease?.fence, fence);
    await weft(a, "agent", "approve", second.id, "--space", space);
    await eventually(async () => (await task(a, id)).status === "done", 120_000, "done after the restart");
  });
});
