/**
 * Space.sign: an operation signed by this node without being applied here,
 * for a peer to take through its API (a browser's merge with its merge
 * commit). Its args are checked first (bad input signs nothing), it names
 * the chain that proves it, and nothing changes here until it is submitted.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memoryNode } from "../helpers/nodes.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { PATCH_FAMILY, type PatchReducer } from "../../protocol/patch/index.ts";
import { InvalidInput } from "../../protocol/schema/input-checks.ts";

describe("Space.sign", () => {
  it("signs without applying; the signed operation applies when submitted", async () => {
    const { node } = await memoryNode();
    try {
      const space = await node.createSpace("sign");
      const policies = () => space.log.state<PatchReducer>(PATCH_FAMILY).policies;
      const args = { repo: "demo", checks: [{ name: "tests" }], approvals: 1 };
      const { invocation, chain } = await space.sign(Commands.patchPolicy, args);
      assert.equal(invocation.iss, node.did);
      assert.equal(invocation.cmd, Commands.patchPolicy);
      assert.deepEqual(chain.map((d) => d.cid.toString()), invocation.prf.map(String), "the chain it names");
      assert.equal(space.log.has(invocation.cid.toString()), false, "not applied here");
      assert.equal(policies().has("demo"), false);

      await space.submitOp(invocation.bytes);
      assert.equal(space.log.has(invocation.cid.toString()), true);
      assert.deepEqual(policies().get("demo")?.checks, [{ name: "tests" }]);
    } finally {
      await node.stop();
    }
  });

  it("refuses bad args before signing anything", async () => {
    const { node } = await memoryNode();
    try {
      const space = await node.createSpace("sign");
      const heads = space.log.heads();
      await assert.rejects(space.sign(Commands.patchPolicy, { repo: "a b", checks: [] }), InvalidInput);
      assert.deepEqual(space.log.heads(), heads);
    } finally {
      await node.stop();
    }
  });
});
