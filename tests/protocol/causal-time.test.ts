/**
 * No author picks the time its operation is judged at. Each scenario an
 * attacker tried against the old log (which judged an operation at the
 * time it wrote for itself) is replayed here against the log itself, with
 * a controlled clock: expired and not-yet-valid delegations, operations
 * from the future, back-dating past what an operation follows, a lapsed
 * holder's back-dated result, a back-dated claim, and revocation — which
 * keeps what the revoker had seen and refuses what came after.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { type OpKind, OPS } from "../../protocol/tasks/ops.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { delegate, type Delegation } from "../../protocol/ucan/delegation.ts";
import { revoke } from "../../protocol/ucan/revocation.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { signer } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000; // a fixed "now" for the log's clock
const GRACE = 10 * 60 * 1000;
const TASK = "task0001";

interface Member {
  signer: Signer;
  chain: Delegation[];
}

/** Every log made here: operations dated ahead would keep the process waiting for their time. */
const logs: OpLog[] = [];
after(() => logs.forEach((log) => log.stop()));

async function space() {
  const root = await signer();
  const authority = new SpaceAuthority({ space: root.did });
  let clock = T0;
  const diagnostics = new Diagnostics();
  const log = new OpLog(authority, diagnostics, { now: () => clock, graceMs: GRACE });
  logs.push(log);
  const member = async (options: { exp?: number | null; nbf?: number } = {}): Promise<Member> => {
    const s = await signer();
    const d = await delegate({
      issuer: root,
      audience: s.did,
      subject: root.did,
      command: "/weft",
      expiration: options.exp ?? null,
      notBefore: options.nbf,
    });
    await authority.addDelegation(d.bytes);
    return { signer: s, chain: [d] };
  };
  const op = async (
    by: Member,
    kind: OpKind,
    at: number,
    args: Record<string, Ipld>,
    after: string[] = [],
  ): Promise<{ bytes: Uint8Array; cid: string }> => {
    const inv = await invoke({
      issuer: by.signer,
      subject: root.did,
      command: OPS[kind].command,
      args: { task: TASK, ...args, at: [at, 0], after },
      proofs: by.chain,
      expiration: null,
    });
    return { bytes: inv.bytes, cid: inv.cid.toString() };
  };
  const revokeMember = async (m: Member, at: number, after: string[], voidSince?: number) => {
    const record = await revoke(root, m.chain, {
      meta: { weft: { at: [at, 0], after, ...(voidSince !== undefined ? { void: [voidSince, 0] } : {}) } },
    });
    assert.ok(await authority.addRevocation(record.bytes));
    await log.revalidate();
  };
  return {
    root,
    authority,
    log,
    diagnostics,
    member,
    op,
    revokeMember,
    setClock: (ms: number) => (clock = ms),
    applied: (cid: string) => log.outcome(cid)?.applied === true,
  };
}

describe("time: no author picks the time it is judged at", () => {
  it("an expired delegation does not work by stamping the operation before its expiry", async () => {
    const s = await space();
    const E = T0 - 60 * 60 * 1000; // the agent's delegation expired an hour ago
    const agent = await s.member({ exp: E / 1000 });
    const node = await s.member();
    const create = await s.op(node, "create", E - 120_000, { title: "t" });
    // Honest work before the expiry, built on by the node before the grace ran out: it stands.
    const honest = await s.op(agent, "comment", E - 60_000, { body: "honest" }, [create.cid]);
    const seen = await s.op(node, "comment", E + 1_000, { body: "seen" }, [honest.cid]);
    // The node has moved on since.
    const later = await s.op(node, "comment", T0 - 1_000, { body: "later" }, [seen.cid]);
    for (const o of [create, honest, seen, later]) await s.log.ingest(o.bytes);
    // Now, an hour after the expiry, the agent's key signs an operation stamped a second before it.
    const forged = await s.op(agent, "comment", E - 1_000, { body: "forged" }, [create.cid]);
    await s.log.ingest(forged.bytes);
    assert.ok(s.applied(honest.cid), "honest work from before the expiry stands");
    assert.equal(s.applied(forged.cid), false, "the back-dated operation is refused");
    assert.match((s.log.outcome(forged.cid) as { reason: string }).reason, /ended/);
    const task = s.log.reducer.tasks.get(TASK)!;
    assert.deepEqual(task.comments.map((c) => c.body), ["honest", "seen", "later"]);
  });

  it("within the grace an offline signer's work is provisional, and drops if nobody built on it in time", async () => {
    const s = await space();
    const E = T0;
    const agent = await s.member({ exp: E / 1000 });
    const node = await s.member();
    const create = await s.op(node, "create", E - 120_000, { title: "t" });
    const offline = await s.op(agent, "comment", E - 30_000, { body: "offline" }, [create.cid]);
    await s.log.ingest(create.bytes);
    await s.log.ingest(offline.bytes);
    assert.ok(s.applied(offline.cid), "provisional while the log has not passed the grace");
    // The node writes past the grace without having seen it: it drops.
    s.setClock(E + GRACE + 10_000);
    const past = await s.op(node, "comment", E + GRACE + 5_000, { body: "past" }, [create.cid]);
    await s.log.ingest(past.bytes);
    assert.equal(s.applied(offline.cid), false);
    // Had the node built on it in time, it would stand: same operations plus a witness, fresh log.
    const t = await space();
    const agent2 = await t.member({ exp: E / 1000 });
    const node2 = await t.member();
    const c2 = await t.op(node2, "create", E - 120_000, { title: "t" });
    const o2 = await t.op(agent2, "comment", E - 30_000, { body: "offline" }, [c2.cid]);
    const w2 = await t.op(node2, "witness", E + 60_000, {}, [o2.cid]);
    const p2 = await t.op(node2, "comment", E + GRACE + 5_000, { body: "past" }, [w2.cid]);
    t.setClock(E + GRACE + 10_000);
    for (const o of [p2, w2, o2, c2]) await t.log.ingest(o.bytes); // any order
    assert.ok(t.applied(o2.cid));
  });

  it("a not-yet-valid delegation does not work early by stamping the operation after its start", async () => {
    const s = await space();
    const nbf = T0 + 60 * 60 * 1000;
    const early = await s.member({ nbf: nbf / 1000 });
    const node = await s.member();
    const create = await s.op(node, "create", T0 - 1_000, { title: "t" });
    await s.log.ingest(create.bytes);
    const o = await s.op(early, "comment", nbf + 1_000, { body: "early" }, [create.cid]);
    const r = await s.log.ingest(o.bytes);
    assert.equal(r.status, "pending");
    assert.equal(r.code, "op/future");
    assert.equal(s.applied(o.cid), false);
    assert.equal(s.log.reducer.tasks.get(TASK)!.comments.length, 0);
  });

  it("an edit stamped in the future waits or is refused, and never wins over later honest edits", async () => {
    const s = await space();
    const member = await s.member();
    const create = await s.op(member, "create", T0 - 10_000, { title: "first" });
    await s.log.ingest(create.bytes);
    const y2100 = await s.op(member, "edit", Date.UTC(2100, 0, 1), { title: "from 2100" }, [create.cid]);
    const r2100 = await s.log.ingest(y2100.bytes);
    assert.equal(r2100.status, "refused");
    const hour = await s.op(member, "edit", T0 + 60 * 60 * 1000, { title: "an hour ahead" }, [create.cid]);
    assert.equal((await s.log.ingest(hour.bytes)).status, "pending");
    const honest = await s.op(member, "edit", T0, { title: "honest" }, [create.cid]);
    await s.log.ingest(honest.bytes);
    assert.equal(s.log.reducer.tasks.get(TASK)!.title, "honest");
  });

  it("an operation cannot be dated before what it follows", async () => {
    const s = await space();
    const member = await s.member();
    const create = await s.op(member, "create", T0 - 10_000, { title: "t" });
    await s.log.ingest(create.bytes);
    const backdated = await s.op(member, "comment", T0 - 60 * 60 * 1000, { body: "an hour ago" }, [create.cid]);
    const r = await s.log.ingest(backdated.bytes);
    assert.equal(r.status, "refused");
    assert.match(r.reason ?? "", /follows/);
  });
});

describe("time: leases do not trust the claimant's clock", () => {
  it("a lapsed holder's back-dated fence-1 result loses to the new holder's fence-2 result, in any order", async () => {
    const s = await space();
    const [a, b, owner] = [await s.member(), await s.member(), await s.member()];
    const t = T0 - 10 * 60 * 1000;
    const create = await s.op(owner, "create", t, { title: "job" });
    const claimA = await s.op(a, "claim", t + 1_000, { fence: 1, expires: t + 61_000 }, [create.cid]);
    const startA = await s.op(a, "start", t + 2_000, { fence: 1 }, [claimA.cid]);
    // a stops; its lease lapses at t + 61 s; b sees that and takes over.
    const claimB = await s.op(b, "claim", t + 70_000, { fence: 2, expires: t + 130_000 }, [startA.cid]);
    const resultB = await s.op(b, "result", t + 80_000, { fence: 2, outcome: "success" }, [claimB.cid]);
    // a comes back and reports, stamping its result inside its old lease.
    const resultA = await s.op(a, "result", t + 30_000, { fence: 1, outcome: "failure" }, [startA.cid]);
    const ops = [create, claimA, startA, claimB, resultB, resultA];
    const orders = [ops, [...ops].reverse(), [create, claimA, startA, resultA, claimB, resultB]];
    for (const order of orders) {
      const fresh = await replay(s, order);
      const task = fresh.reducer.tasks.get(TASK)!;
      assert.deepEqual(task.results.map((r) => [r.by, r.fence]), [[b.signer.did, 2]], "exactly one result: b's");
      assert.equal(task.status, "done");
      assert.equal(fresh.outcome(resultA.cid)?.applied, false);
    }
  });

  it("a claim stamped before the holder's does not displace a holder the mesh has seen", async () => {
    const s = await space();
    const [holder, attacker, node, owner] = [await s.member(), await s.member(), await s.member(), await s.member()];
    const t = T0 - 60_000;
    const create = await s.op(owner, "create", t - 10_000, { title: "job" });
    const claim = await s.op(holder, "claim", t, { fence: 1, expires: t + 60_000 }, [create.cid]);
    const witness = await s.op(node, "witness", t + 500, {}, [claim.cid]);
    // The attacker saw the claim, and claims as if a second earlier, naming only what came before it.
    const forged = await s.op(attacker, "claim", t - 1_000, { fence: 1, expires: t + 59_000 }, [create.cid]);
    const start = await s.op(holder, "start", t + 1_000, { fence: 1 }, [witness.cid]);
    const ops = [create, claim, witness, forged, start];
    for (const order of [ops, [...ops].reverse(), [create, forged, claim, start, witness]]) {
      const log = await replay(s, order);
      const task = log.reducer.tasks.get(TASK)!;
      assert.equal(task.lease?.holder, holder.signer.did, "the holder keeps its lease");
      assert.equal(task.status, "running");
      assert.equal(log.outcome(forged.cid)?.applied, false);
    }
  });
});

describe("time: revocation keeps honest work", () => {
  it("what the revoker had seen stays, what came after is refused, concurrent work is bounded by the grace", async () => {
    const s = await space();
    const [member, admin] = [await s.member(), await s.member()];
    const t = T0 - 60 * 60 * 1000;
    const create = await s.op(admin, "create", t, { title: "t" });
    const edit = await s.op(member, "edit", t + 1_000, { title: "member's title" }, [create.cid]);
    const later = await s.op(admin, "comment", t + 2_000, { body: "ok" }, [edit.cid]);
    for (const o of [create, edit, later]) await s.log.ingest(o.bytes);
    // Concurrent work by the member, signed offline a little before the revocation.
    const offline = await s.op(member, "comment", t + 2_500, { body: "offline" }, [edit.cid]);
    await s.revokeMember(member, t + 3_000, [later.cid]);
    // The member, not having heard, signs more after the revocation.
    const after = await s.op(member, "comment", t + 4_000, { body: "after" }, [edit.cid]);
    await s.log.ingest(after.bytes);
    await s.log.ingest(offline.bytes);
    assert.ok(s.applied(edit.cid), "an edit made before the revocation, seen by the revoker, stays");
    assert.equal(s.log.reducer.tasks.get(TASK)!.title, "member's title");
    assert.equal(s.applied(after.cid), false, "signed after the revocation: refused");
    // The log has long passed the revocation plus the grace; nobody built on the offline comment.
    const now = await s.op(admin, "comment", T0 - 1_000, { body: "now" }, [later.cid]);
    await s.log.ingest(now.bytes);
    assert.equal(s.applied(offline.cid), false, "concurrent, unwitnessed past the grace: refused");
    assert.deepEqual(s.log.reducer.tasks.get(TASK)!.comments.map((c) => c.body), ["ok", "now"]);
  });

  it("revoke and void since a point also drops what the revoker had seen from that point on", async () => {
    const s = await space();
    const [member, admin] = [await s.member(), await s.member()];
    const t = T0 - 60_000;
    const create = await s.op(admin, "create", t, { title: "t" });
    const good = await s.op(member, "comment", t + 1_000, { body: "before the theft" }, [create.cid]);
    const stolen = await s.op(member, "comment", t + 5_000, { body: "by the thief" }, [good.cid]);
    for (const o of [create, good, stolen]) await s.log.ingest(o.bytes);
    await s.revokeMember(member, t + 10_000, [stolen.cid], t + 3_000);
    assert.ok(s.applied(good.cid));
    assert.equal(s.applied(stolen.cid), false);
    assert.match((s.log.outcome(stolen.cid) as { reason: string }).reason, /voided/);
  });
});

describe("time: every node reaches the same verdicts", () => {
  it("any delivery order, with claims racing and a revocation, gives the same state and the same verdict on every operation", async () => {
    const s = await space();
    const members = [
      await s.member(),
      await s.member(),
      await s.member(),
      await s.member({ exp: (T0 - 30_000) / 1000 }),
    ];
    const t = T0 - 120_000;
    const ops: { bytes: Uint8Array; cid: string }[] = [];
    const create = await s.op(members[0], "create", t, { title: "t" });
    ops.push(create);
    // Two partitions claim concurrently, work, report; a third node witnesses one side; the expiring member comments.
    const c1 = await s.op(members[1], "claim", t + 1_000, { fence: 1, expires: t + 61_000 }, [create.cid]);
    const c2 = await s.op(members[2], "claim", t + 1_200, { fence: 1, expires: t + 61_200 }, [create.cid]);
    const w = await s.op(members[0], "witness", t + 3_000, {}, [c2.cid]);
    const s1 = await s.op(members[1], "start", t + 2_000, { fence: 1 }, [c1.cid]);
    const s2 = await s.op(members[2], "start", t + 2_100, { fence: 1 }, [c2.cid]);
    const r1 = await s.op(members[1], "result", t + 9_000, { fence: 1, outcome: "success" }, [s1.cid]);
    const r2 = await s.op(members[2], "result", t + 9_500, { fence: 1, outcome: "failure" }, [s2.cid, w.cid]);
    const x = await s.op(members[3], "comment", t + 20_000, { body: "expiring" }, [create.cid]);
    const y = await s.op(members[0], "comment", t + 25_000, { body: "y" }, [r2.cid, r1.cid]);
    ops.push(c1, c2, w, s1, s2, r1, r2, x, y);
    const verdicts = (log: OpLog) =>
      JSON.stringify([
        ops.map((o) => log.outcome(o.cid)?.applied ?? "waiting"),
        log.reducer.tasks.get(TASK),
      ]);
    const want = verdicts(await replay(s, ops));
    const task = (await replay(s, ops)).reducer.tasks.get(TASK)!;
    assert.equal(task.results.length, 1, "exactly one result");
    assert.equal(task.results[0].by, members[2].signer.did, "the claim witnessed first wins");
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length }), async (order) => {
        assert.equal(verdicts(await replay(s, order)), want);
      }),
      { numRuns: 40 },
    );
  });
});

/** A fresh log over the same space's delegations, fed `ops` in this order. */
async function replay(s: Awaited<ReturnType<typeof space>>, ops: { bytes: Uint8Array }[]): Promise<OpLog> {
  const log = new OpLog(s.authority, new Diagnostics(), { now: () => T0, graceMs: GRACE });
  logs.push(log);
  for (const o of ops) await log.ingest(o.bytes);
  return log;
}
