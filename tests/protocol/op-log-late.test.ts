/**
 * Operations that wait and join the log later: a batch announces all it
 * took up at once, and a change of membership takes up a chain of waiting
 * operations whole.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { type LogEntry, OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { OPS } from "../../protocol/tasks/ops.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { delegate, type Delegation } from "../../protocol/ucan/delegation.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import { signer } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000;
const logs: OpLog[] = [];
after(() => logs.forEach((log) => log.stop()));

async function space() {
  const root = await signer();
  const authority = new SpaceAuthority({ space: root.did });
  const announced: LogEntry[][] = [];
  const log = new OpLog(authority, new Diagnostics(), { now: () => T0, onLate: (e) => announced.push(e) });
  logs.push(log);
  const member = await signer();
  const chain: Delegation[] = [
    await delegate({ issuer: root, audience: member.did, subject: root.did, command: "/weft", expiration: null }),
  ];
  /** Task `task` created at T0 - `ago` ms, after `parents`. */
  const create = async (by: Signer, task: string, ago: number, parents: string[] = []) => {
    const inv = await invoke({
      issuer: by,
      subject: root.did,
      command: OPS.create.command,
      args: { task, title: task, at: [T0 - ago, 0], after: parents },
      proofs: by === root ? [] : chain,
      expiration: null,
    });
    return { bytes: inv.bytes, cid: inv.cid.toString() };
  };
  return { root, member, chain, authority, log, announced, create };
}

describe("operations that waited", () => {
  it("are announced together when one batch takes them all up", async () => {
    const s = await space();
    const parent = await s.create(s.root, "parent00", 5000);
    const children = [];
    for (let i = 0; i < 3; i++) children.push(await s.create(s.root, `child00${i}`, 4000 - i, [parent.cid]));
    // The children arrive before their parent, as they do when the parent lives in another bucket and comes later.
    const waiting = await s.log.ingestAll(children.map((o) => [o.cid, o.bytes] as const));
    assert.deepEqual(waiting.map((r) => r.status), ["pending", "pending", "pending"]);
    assert.equal(s.announced.length, 0);
    const [taken] = await s.log.ingestAll([[parent.cid, parent.bytes]]);
    assert.equal(taken.status, "accepted");
    assert.equal(s.announced.length, 1, "one announcement for the batch");
    assert.deepEqual(s.announced[0].map((e) => e.object).sort(), ["child000", "child001", "child002"]);
    assert.equal(s.log.size, 4);
    assert.equal(s.log.pendingCount, 0);
  });

  it("are all taken up when a missing delegation arrives, a child after the parent it waited for", async () => {
    const s = await space();
    const parent = await s.create(s.member, "parent00", 5000);
    const child = await s.create(s.member, "child000", 4000, [parent.cid]);
    await s.log.ingestAll([[parent.cid, parent.bytes], [child.cid, child.bytes]]);
    assert.equal(s.log.pendingCount, 2, "the parent waits for its proof, the child for its parent");
    await s.authority.addDelegation(s.chain[0].bytes);
    // Taking up the parent takes up the child: the loop must not then re-read the child as waiting.
    await s.log.revalidate();
    assert.equal(s.log.pendingCount, 0);
    assert.equal(s.log.size, 2);
    assert.ok(s.log.has(child.cid), "the child stays known");
    assert.equal(s.log.outcome(child.cid)?.applied, true);
    assert.deepEqual(s.announced.flat().map((e) => e.object), ["child000"]);
  });
});
