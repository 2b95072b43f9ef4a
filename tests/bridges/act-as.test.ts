/**
 * Acting as another principal: a bridge's key signs task operations under
 * its own delegated chain (Space.actAs), and every node checks them like any
 * member's. What the chain does not cover — the command, its policy, a
 * revoked delegation — is refused on the node that holds the bridge and, if
 * a misbehaving node writes it anyway, on every other node too.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, injectOp, link, memoryNode, type TestNode } from "../helpers/nodes.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { Forbidden } from "../../protocol/space/errors.ts";

/** a's space, joined by b, with one task seen on both. */
async function pair(a: TestNode, b: TestNode) {
  const space = await a.node.createSpace("bridged");
  link(a, b);
  const joined = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
    signal: AbortSignal.timeout(10_000),
  });
  const task = await space.createTask({ title: "watched by a bridge" });
  await eventually(() => joined.task(task.id), 10_000, "task on b");
  return { space, joined, task };
}

describe("Space.actAs: a bridge acting as its own DID", () => {
  it("signs with the bridge's key under its chain; the other node verifies and applies it", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const { space, joined, task } = await pair(a, b);
      const bridge = nativeSigner(generateSeed());
      await space.invite({ audience: bridge.did, command: Commands.taskLabel, kind: "agent", name: "labeler" });
      const after = await space.actAs(bridge, "label", { task: task.id, add: ["triaged"] });
      assert.deepEqual(after.labels, ["triaged"]);
      assert.equal(after.history.at(-1)?.author, bridge.did);
      const seen = await eventually(() => joined.task(task.id)?.labels.includes("triaged") && joined.task(task.id));
      assert.ok(seen);
      assert.equal(seen.history.at(-1)?.author, bridge.did, "b applied the op as the bridge's, not a's");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });

  it("refuses a command the chain does not cover, locally and on every other node", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const { space, joined, task } = await pair(a, b);
      const bridge = nativeSigner(generateSeed());
      const { chain } = await space.invite({ audience: bridge.did, command: Commands.taskComment });
      await space.actAs(bridge, "comment", { task: task.id, body: "seen" });
      await assert.rejects(space.actAs(bridge, "label", { task: task.id, add: ["x"] }), Forbidden);
      assert.deepEqual(space.task(task.id)?.labels, [], "nothing was applied");
      // A node that writes it anyway (bypassing its own checks) convinces no one.
      const forged = await invoke({
        issuer: bridge,
        subject: space.id,
        command: Commands.taskLabel,
        args: { task: task.id, add: ["x"], at: [Date.now(), 0], after: space.log.heads() } as Record<string, Ipld>,
        proofs: chain,
        expiration: null,
      });
      const cid = forged.cid.toString();
      await injectOp(a, space, forged.bytes, cid);
      await eventually(
        () => b.node.diagnostics.refusals({ space: space.id }).some((r) => r.what.includes(cid)),
        10_000,
        "b refusing the forged label",
      );
      assert.ok(a.node.diagnostics.refusals({ space: space.id }).some((r) => r.what.includes(cid)));
      assert.deepEqual(joined.task(task.id)?.labels, []);
      assert.deepEqual(space.task(task.id)?.labels, []);
      assert.equal(joined.task(task.id)?.comments[0]?.author, bridge.did, "its covered comment did arrive");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });

  it("holds the bridge to its delegation's policy", async () => {
    const a = await memoryNode();
    try {
      const space = await a.node.createSpace("policy");
      const task = await space.createTask({ title: "labels only with the bridge's prefix" });
      const bridge = nativeSigner(generateSeed());
      await space.invite({
        audience: bridge.did,
        command: Commands.taskLabel,
        policy: [["all", ".add", ["like", ".", "bot:*"]]],
      });
      await space.actAs(bridge, "label", { task: task.id, add: ["bot:seen"] });
      await assert.rejects(space.actAs(bridge, "label", { task: task.id, add: ["release"] }), Forbidden);
      assert.deepEqual(space.task(task.id)?.labels, ["bot:seen"]);
    } finally {
      await a.node.stop();
    }
  });

  it("stops a revoked bridge everywhere; what it did before stays", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const { space, joined, task } = await pair(a, b);
      const bridge = nativeSigner(generateSeed());
      const { delegation } = await space.invite({ audience: bridge.did, command: Commands.taskLabel });
      await space.actAs(bridge, "label", { task: task.id, add: ["before"] });
      await space.revoke(delegation.cid.toString());
      await assert.rejects(space.actAs(bridge, "label", { task: task.id, add: ["after"] }), Forbidden);
      await eventually(() => joined.authority.isRevoked(delegation.cid), 10_000, "revocation on b");
      await eventually(() => joined.task(task.id)?.labels.includes("before"), 10_000, "earlier label on b");
      assert.deepEqual(joined.task(task.id)?.labels, ["before"]);
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });
});
