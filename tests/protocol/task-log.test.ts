/**
 * The task log reaches the same state whatever order operations arrive in:
 * in order, reversed, shuffled, in bursts, with the rewind checkpoint in play.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { type OpKind, OPS } from "../../protocol/tasks/ops.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { signer } from "../helpers/principals.ts";

async function makeOps(count: number): Promise<{ space: string; ops: Uint8Array[] }> {
  const root = await signer();
  const ops: Uint8Array[] = [];
  const tasks: string[] = [];
  let ms = 1_700_000_000_000;
  const sign = async (kind: OpKind, args: Record<string, Ipld>) => {
    ms += 1 + (ops.length % 3 === 0 ? 0 : 5); // some equal clocks: ties break on CID
    const inv = await invoke({
      issuer: root,
      subject: root.did,
      command: OPS[kind].command,
      args: { ...args, at: [ms, ops.length % 2] },
      proofs: [],
      expiration: null,
    });
    ops.push(inv.bytes);
  };
  for (let i = 0; ops.length < count; i++) {
    const id = `task${String(i).padStart(6, "0")}`;
    await sign("create", {
      task: id,
      title: `t${i}`,
      ...(tasks.length > 2 && i % 4 === 0 ? { deps: [tasks[i - 2]] } : {}),
    });
    tasks.push(id);
    if (i % 3 === 0) await sign("comment", { task: id, body: `c${i}` });
    if (i % 5 === 0) await sign("claim", { task: tasks[i >> 1], fence: 1, expires: ms + 60_000 });
    if (i % 7 === 0) await sign("label", { task: tasks[i >> 2], add: [`l${i}`] });
    if (i % 11 === 0 && i > 3) await sign("dependency", { task: tasks[i - 3], add: id });
  }
  return { space: root.did, ops };
}

const digest = (log: OpLog) => JSON.stringify([...log.reducer.tasks.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));

describe("task log ordering", () => {
  it("any arrival order gives the state of in-order arrival", async () => {
    const { space, ops } = await makeOps(700);
    const fresh = () => new OpLog(new SpaceAuthority({ space }), new Diagnostics());
    const inOrder = fresh();
    for (const b of ops) await inOrder.ingest(b);
    const want = digest(inOrder);
    assert.ok(inOrder.reducer.tasks.size > 300);
    const reversed = fresh();
    for (const b of [...ops].reverse()) await reversed.ingest(b, undefined, { verdict: true });
    assert.equal(digest(reversed), want);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: ops.length, maxLength: ops.length }),
        fc.boolean(),
        async (keys, reads) => {
          // Mostly in order with local disorder (as sync delivers), sometimes fully shuffled.
          const order = ops.map((b, i) => ({ b, k: i + (keys[i] % 40) })).sort((x, y) => x.k - y.k);
          const log = fresh();
          for (const [i, { b }] of order.entries()) {
            await log.ingest(b);
            if (reads && i % 50 === 0) void log.reducer; // interleave reads (reductions)
          }
          assert.equal(digest(log), want);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("takes a batch in causal order: nothing in it waits for a parent in it", async () => {
    const root = await signer();
    const ops: Uint8Array[] = [];
    let parent: string | undefined;
    for (let i = 0; i < 50; i++) {
      const inv = await invoke({
        issuer: root,
        subject: root.did,
        command: OPS.create.command,
        args: {
          task: `task${String(i).padStart(6, "0")}`,
          title: `t${i}`,
          at: [1_700_000_000_000 + i, 0],
          ...(parent ? { after: [parent] } : {}),
        },
        proofs: [],
        expiration: null,
      });
      parent = inv.cid.toString();
      ops.push(inv.bytes);
    }
    const diagnostics = new Diagnostics();
    const log = new OpLog(new SpaceAuthority({ space: root.did }), diagnostics);
    // Newest first, as a bucket read from storage may hold them: each names the one after it in the batch.
    await log.ingestAll([...ops].reverse().map((b) => [undefined, b] as const));
    assert.equal(log.size, 50);
    assert.equal(log.reducer.tasks.size, 50);
    assert.equal(diagnostics.counter("ops.pending"), 0, "none waited for its parent");
  });
});
