/**
 * Two peers on loopback libp2p whose signature checks go through the peer's
 * verify pool (peer/crypto/verify-pool.ts), taking in a partition's worth
 * of operations: a forged operation in the burst is refused and everything
 * else applied, when the workers answer, and when every worker runs out of
 * heap (its batches are then checked on the main thread: the node stays
 * up and right). Fails without the pool's fallback (a failed batch would
 * never settle) or if a worker's verdict were trusted without a check.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Space } from "../../protocol/space/space.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { type VerifyPool, verifyPool } from "../../peer/crypto/verify-pool.ts";
import { dial, eventually, injectOp, libp2pNode, partition, stateDigest } from "../helpers/nodes.ts";

const OPS = 150;

async function healWith(pool: VerifyPool): Promise<void> {
  const a = await libp2pNode();
  const b = await libp2pNode({ verifier: pool });
  try {
    const space = await a.node.createSpace("pooled");
    const invite = await a.node.invite(space.id, { audience: b.node.did });
    await dial(b, a);
    const joined: Space = await b.node.join(invite);
    await partition([a], [b]);
    for (let i = 0; i < OPS; i++) await space.createTask({ title: `apart ${i}` });
    // A member's real operation with one byte of its signature changed.
    const real = await invoke({
      issuer: a.node.signer,
      subject: space.id,
      command: Commands.taskComment,
      args: { task: space.tasks()[0].id, body: "forged", at: [Date.now(), 0] },
      proofs: space.authority.chainsFor(a.node.did, Commands.taskComment, Math.floor(Date.now() / 1000))[0],
      expiration: null,
    });
    const forged = real.bytes.slice();
    forged[forged.length - 5] ^= 0x01;
    await injectOp(a, space, forged, "forged");
    const refused = () =>
      b.node.diagnostics.refusals({ kind: "op", space: space.id }).filter((r) => r.code === "ucan/invalid-signature");
    await dial(b, a);
    await eventually(() => joined.tasks().length === OPS && refused().length >= 1, 60_000, "the burst taken in");
    await joined.settled();
    assert.equal(stateDigest(joined), stateDigest(space), "the same state on both");
    assert.ok(!joined.tasks().some((t) => JSON.stringify(t).includes("forged")), "the forged comment applied nowhere");
  } finally {
    await a.node.stop();
    await b.node.stop();
  }
}

describe("a peer checking signatures in its verify pool", () => {
  it("takes in a burst in worker threads and refuses the forged operation in it", async () => {
    const pool = verifyPool({ threads: 1 });
    try {
      await healWith(pool);
      assert.ok(pool.counts.lanes > 0, `the worker checked its share (${JSON.stringify(pool.counts)})`);
      assert.equal(pool.counts.failedBatches, 0);
    } finally {
      await pool.close();
    }
  });

  it("stays up and right when its workers run out of heap", async () => {
    const failures: Error[] = [];
    const pool = verifyPool({
      threads: 1,
      script: new URL("../helpers/oom-verify-worker.ts", import.meta.url),
      onFailure: (e) => failures.push(e),
    });
    try {
      await healWith(pool);
      assert.ok(failures.length >= 1, "a worker ran out of heap");
      assert.ok(
        failures.every((e) => (e as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY"),
        failures.map(String).join("; "),
      );
      assert.equal(pool.counts.lanes, 0, "no verdict came from a failed worker");
      assert.ok(pool.counts.here >= OPS, "every check was done on the main thread");
    } finally {
      await pool.close();
    }
  });
});
