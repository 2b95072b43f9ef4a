/**
 * Five real nodes on loopback TCP (libp2p, noise, yamux, sync sessions) with
 * real automerge-repo sync: replication, partitions, concurrent claims,
 * and hostile operations that must be applied nowhere.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Space } from "../../protocol/space/space.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { signer } from "../helpers/principals.ts";
import { cidOf } from "../../protocol/codec/cid.ts";
import {
  dial,
  eventually,
  injectOp,
  libp2pNode,
  mesh,
  partition,
  stateDigest,
  type TestNode,
} from "../helpers/nodes.ts";

describe("five peers", () => {
  let nodes: TestNode[];
  let spaces: Space[];

  const converged = (what: string, ms = 15_000) =>
    eventually(() => new Set(spaces.map(stateDigest)).size === 1, ms, `identical state: ${what}`);

  before(async () => {
    nodes = await Promise.all(Array.from({ length: 5 }, () => libp2pNode()));
    const [a] = nodes;
    const space = await a.node.createSpace("five");
    const invites = await Promise.all(
      nodes.slice(1).map((n, i) => a.node.invite(space.id, { audience: n.node.did, name: `peer${i + 1}` })),
    );
    await mesh(nodes);
    const joined = await Promise.all(
      nodes.slice(1).map((n, i) => n.node.join(invites[i], { signal: AbortSignal.timeout(20_000) })),
    );
    spaces = [space, ...joined];
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.node.stop()));
  });

  it("a task created on one reaches all", async () => {
    const t = await spaces[2].createTask({ title: "reach everyone", labels: ["x"] });
    for (const s of spaces) await eventually(() => s.task(t.id), 10_000, "task everywhere");
    await converged("after one task");
  });

  it("a 3|2 partition with edits on both sides converges after heal", async () => {
    const [a, b, c, d, e] = nodes;
    const base = await spaces[0].createTask({ title: "shared" });
    await converged("before the partition");
    await partition([a, b, c], [d, e]);
    const left = await spaces[1].createTask({ title: "left side" });
    await spaces[0].act("edit", { task: base.id, title: "edited on the left" });
    const right = await spaces[4].createTask({ title: "right side" });
    await spaces[3].act("label", { task: base.id, add: ["right"] });
    await spaces[3].act("comment", { task: base.id, body: "from the right" });
    // Each side sees its own edits, not the other's.
    await eventually(() => spaces[2].task(left.id) && !spaces[2].task(right.id), 5000, "left side only");
    await eventually(() => spaces[3].task(right.id) && !spaces[3].task(left.id), 5000, "right side only");
    await dial(c, d);
    await dial(a, e);
    await converged("after heal");
    const merged = spaces[4].task(base.id)!;
    assert.equal(merged.title, "edited on the left");
    assert.deepEqual(merged.labels, ["right"]);
    assert.equal(merged.comments.length, 1);
    for (const s of spaces) assert.ok(s.task(left.id) && s.task(right.id));
    await mesh(nodes).catch(() => {});
  });

  it("concurrent claims in a partition resolve to one winner everywhere; the loser's result is refused", async () => {
    const [a, b, c, d, e] = nodes;
    const t = await spaces[0].createTask({ title: "claim me" });
    await converged("task known before the claims");
    await partition([a, b, c], [d, e]);
    const mine = await spaces[1].claim(t.id, 60_000);
    const theirs = await spaces[3].claim(t.id, 60_000);
    assert.equal(mine.lease?.fence, 1);
    assert.equal(theirs.lease?.fence, 1, "each side believes it won");
    await dial(c, d);
    await dial(b, e);
    await converged("after the claims merge");
    const winners = new Set(spaces.map((s) => s.task(t.id)!.lease?.holder));
    assert.equal(winners.size, 1, "one holder on every node");
    const [winner] = winners;
    assert.ok(winner === nodes[1].node.did || winner === nodes[3].node.did);
    const loserSpace = winner === nodes[1].node.did ? spaces[3] : spaces[1];
    await assert.rejects(
      loserSpace.act("result", { task: t.id, fence: 1, outcome: "success" }),
      (err: Error & { code?: string }) => err.code === "task/conflict",
    );
    const winnerSpace = winner === nodes[1].node.did ? spaces[1] : spaces[3];
    const done = await winnerSpace.act("result", { task: t.id, fence: 1, outcome: "success" });
    assert.equal(done.status, "done");
    await converged("after the result");
    await mesh(nodes).catch(() => {});
  });

  it("forged, non-member, cross-space and replayed operations are applied nowhere", async () => {
    const [, , , d] = nodes;
    const before = spaces.map(stateDigest);
    const refusedBefore = nodes.map((n) => n.node.diagnostics.counter("refused.op"));
    const space = spaces[3];
    const t = space.tasks()[0];
    // Forged: a member's real operation with one byte changed.
    const real = await invoke({
      issuer: d.node.signer,
      subject: space.id,
      command: Commands.taskComment,
      args: { task: t.id, body: "forged", at: [Date.now(), 0] },
      proofs: space.authority.chainsFor(d.node.did, Commands.taskComment, Math.floor(Date.now() / 1000))[0],
      expiration: null,
    });
    const forged = real.bytes.slice();
    forged[forged.length - 5] ^= 0x01;
    await injectOp(d, space, forged, "forged");
    // A stranger's operation: validly signed, no delegation.
    const stranger = await signer();
    const outsider = await invoke({
      issuer: stranger,
      subject: space.id,
      command: Commands.taskCreate,
      args: { task: newTaskId(), title: "intruder", at: [Date.now(), 0] },
      proofs: [],
      expiration: null,
    });
    await injectOp(d, space, outsider.bytes, outsider.cid.toString());
    // A valid operation of another space, replayed into this one.
    const other = await d.node.createSpace("elsewhere");
    const foreign = await other.createTask({ title: "foreign" });
    const foreignBytes = await findOpBytes(d, other, foreign.id);
    await injectOp(d, space, foreignBytes, cidOf(foreignBytes).toString());
    // A valid operation of this space replayed under another key.
    const existing = await findOpBytes(d, space, t.id);
    await injectOp(d, space, existing, "replayed");
    await eventually(
      () => nodes.every((n, i) => n.node.diagnostics.counter("refused.op") >= refusedBefore[i] + 4),
      10_000,
      "every node refuses all four",
    );
    assert.deepEqual(spaces.map(stateDigest), before, "no state changed anywhere");
    for (const n of nodes) {
      const codes = n.node.diagnostics.refusals({ kind: "op", space: space.id }).map((r) => r.code);
      assert.ok(codes.includes("ucan/invalid-signature"), `${codes}`);
      assert.ok(codes.includes("ucan/invalid-claim"), `${codes}`);
      assert.ok(codes.includes("ucan/invalid-subject"), `${codes}`);
      assert.ok(codes.includes("ucan/malformed"), `${codes}`);
    }
  });

  it("operations by a revoked member are dropped everywhere once the revocation arrives", async () => {
    const [a, b, c, d, e] = nodes;
    const eDelegation = spaces[0].members().find((m) => m.did === e.node.did)!.delegations[0];
    await partition([a], [b, c, d, e]);
    await spaces[0].revoke(eDelegation);
    // e, and the peers it reaches, have not heard of the revocation yet.
    const sneaky = await spaces[4].createTask({ title: "made after revocation" });
    for (const s of spaces.slice(1)) await eventually(() => s.task(sneaky.id), 10_000, "spread on the far side");
    await dial(a, b);
    const members = spaces.slice(0, 4);
    for (const s of members) await eventually(() => !s.task(sneaky.id), 15_000, "dropped once revoked");
    await eventually(() => new Set(members.map(stateDigest)).size === 1, 15_000, "members converge");
    for (const s of members) assert.ok(!s.members().some((m) => m.did === e.node.did), "e is no longer a member");
    // e is cut off: members no longer sync anything with it.
    const before = stateDigest(spaces[0]);
    await spaces[4].createTask({ title: "shouting into the void" }).catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(stateDigest(spaces[0]), before);
    assert.ok(nodes.slice(0, 4).some((n) => n.node.diagnostics.counter("refused.sync") > 0));
  });

  it("a non-member cannot fetch a space document", async () => {
    const outsider = await libp2pNode();
    try {
      await dial(outsider, nodes[0]);
      // Ask only once the session is up, so the request reaches the member (and is withheld there).
      await eventually(() => outsider.node.repo.peers.length > 0, 10_000, "the outsider's session");
      await assert.rejects(
        outsider.node.repo.find(spaces[0].url, { signal: AbortSignal.timeout(3000) }),
        /unavailable|aborted|timeout/i,
      );
      assert.equal(
        outsider.node.repo.handles[spaces[0].url.slice("automerge:".length) as never]?.isReady() ?? false,
        false,
      );
      // Nothing of it crossed: the outsider received the handshake only (273 bytes here), far less than the space
      // document (its genesis and five members' delegations). A request, if its own repo sends one at all, is
      // refused by the member, or withheld by the outsider's session since it proved no space.
      const received = outsider.node.diagnostics.counter("sync.bytes.in");
      assert.ok(received < 1024, `the outsider received ${received} bytes`);
    } finally {
      await outsider.node.stop();
    }
  });
});

async function findOpBytes(t: TestNode, space: Space, taskId: string): Promise<Uint8Array> {
  for (const id of space.documentIds.slice(1)) {
    const h = await t.node.repo.find<{ ops: Record<string, Uint8Array> }>(id);
    for (const bytes of Object.values(h.doc().ops)) {
      const inv = await space.authority.validator.verifyInvocationSignature(bytes).catch(() => undefined);
      if (inv?.args.task === taskId) return bytes;
    }
  }
  throw new Error(`no op for ${taskId}`);
}
