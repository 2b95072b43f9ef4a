/**
 * Repositories as a family of the space's operation log: creates and pushes
 * judged by the same checks as tasks (signature, shape, parents, time,
 * authority at their own time, causal revocation), the ref policy on a
 * push delegation enforced by the chain, only maintainers on the default
 * branch, and concurrent pushes to one ref converging on one winner (the
 * loser kept as refused) in every delivery order. Runs under Node and Deno.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { delegate, type Delegation } from "../../protocol/ucan/delegation.ts";
import { revoke } from "../../protocol/ucan/revocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { refPolicy, REPO_FAMILY, repoFamily, type RepoReducer, zeroId } from "../../protocol/repo/index.ts";
import { signer } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000;
const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const Z = zeroId(A);

interface Member {
  signer: Signer;
  chain: Delegation[];
}

async function space() {
  const root = await signer();
  const authority = new SpaceAuthority({ space: root.did });
  const fresh = () => new OpLog(authority, new Diagnostics(), { now: () => T0 + 3_600_000, families: [repoFamily] });
  const log = fresh();
  const member = async (command = "/weft", policy?: Ipld[]): Promise<Member> => {
    const s = await signer();
    const d = await delegate({ issuer: root, audience: s.did, subject: root.did, command, policy, expiration: null });
    await authority.addDelegation(d.bytes);
    return { signer: s, chain: [d] };
  };
  const op = async (by: Member, command: string, at: number, args: Record<string, Ipld>, after: string[] = []) => {
    const inv = await invoke({
      issuer: by.signer,
      subject: root.did,
      command,
      args: { ...args, at: [at, 0], after },
      proofs: by.chain,
      expiration: null,
    });
    return { bytes: inv.bytes, cid: inv.cid.toString() };
  };
  const create = (by: Member, at: number, maintainers?: string[]) =>
    op(by, Commands.repoCreate, at, { repo: "weft", defaultBranch: "main", ...(maintainers ? { maintainers } : {}) });
  const push = (by: Member, at: number, updates: { ref: string; old: string; new: string }[], after: string[]) =>
    op(by, Commands.repoPush, at, { repo: "weft", updates }, after);
  const refs = (l = log) =>
    Object.fromEntries(
      [...(l.state<RepoReducer>(REPO_FAMILY).repos.get("weft")?.refs ?? [])].map(([k, v]) => [k, v.commit]),
    );
  return { root, authority, log, fresh, member, op, create, push, refs };
}

describe("repositories in the operation log", () => {
  it("a create and pushes move refs; a stale push is refused and recorded, not lost", async () => {
    const s = await space();
    const m = await s.member();
    const c = await s.create(m, T0);
    assert.equal((await s.log.ingest(c.bytes, c.cid, { verdict: true })).status, "applied");
    const p1 = await s.push(m, T0 + 1, [{ ref: "refs/heads/main", old: Z, new: A }], [c.cid]);
    assert.equal((await s.log.ingest(p1.bytes, p1.cid, { verdict: true })).status, "applied");
    const stale = await s.push(m, T0 + 2, [{ ref: "refs/heads/main", old: Z, new: B }], [p1.cid]);
    const r = await s.log.ingest(stale.bytes, stale.cid, { verdict: true });
    assert.equal(r.status, "refused");
    assert.match(r.reason ?? "", /stale: refs\/heads\/main is at a{40}/);
    assert.deepEqual(s.refs(), { "refs/heads/main": A });
    const repo = s.log.state<RepoReducer>(REPO_FAMILY).repos.get("weft")!;
    assert.deepEqual(repo.pushes.map((p) => [p.op, p.applied]), [[p1.cid, true], [stale.cid, false]]);
    // A push names the repository's family and object, and shares the task log's graph.
    assert.deepEqual(s.log.heads(), [stale.cid]);
    assert.equal(s.log.entry(p1.cid)?.object, "weft");
  });

  it("a push's updates apply all together or not at all", async () => {
    const s = await space();
    const m = await s.member();
    const c = await s.create(m, T0);
    const p1 = await s.push(m, T0 + 1, [{ ref: "refs/heads/main", old: Z, new: A }], [c.cid]);
    const both = await s.push(m, T0 + 2, [
      { ref: "refs/heads/dev", old: Z, new: B },
      { ref: "refs/heads/main", old: B, new: C }, // stale
    ], [p1.cid]);
    for (const o of [c, p1, both]) await s.log.ingest(o.bytes, o.cid);
    assert.equal(s.log.outcome(both.cid)?.applied, false);
    assert.deepEqual(s.refs(), { "refs/heads/main": A });
  });

  it("only a maintainer moves the default branch", async () => {
    const s = await space();
    const maintainer = await s.member();
    const other = await s.member();
    const c = await s.create(maintainer, T0);
    const byOther = await s.push(other, T0 + 1, [{ ref: "refs/heads/main", old: Z, new: A }], [c.cid]);
    const topic = await s.push(other, T0 + 2, [{ ref: "refs/heads/topic", old: Z, new: A }], [byOther.cid]);
    for (const o of [c, byOther, topic]) await s.log.ingest(o.bytes, o.cid);
    assert.match((s.log.outcome(byOther.cid) as { reason: string }).reason, /only a maintainer/);
    assert.deepEqual(s.refs(), { "refs/heads/topic": A });
  });

  it("a delegation's ref policy limits which refs its holder pushes, checked with the chain", async () => {
    const s = await space();
    const maintainer = await s.member();
    const agent = await s.member(Commands.repoPush, refPolicy(["refs/heads/agent/*"]));
    const c = await s.create(maintainer, T0);
    await s.log.ingest(c.bytes, c.cid);
    const ok = await s.push(agent, T0 + 1, [{ ref: "refs/heads/agent/fix-1", old: Z, new: A }], [c.cid]);
    assert.equal((await s.log.ingest(ok.bytes, ok.cid, { verdict: true })).status, "applied");
    // Signed by the agent's key, with a valid chain, for a ref its policy excludes.
    const forged = await s.push(agent, T0 + 2, [
      { ref: "refs/heads/agent/fix-2", old: Z, new: A },
      { ref: "refs/heads/release", old: Z, new: B },
    ], [ok.cid]);
    const r = await s.log.ingest(forged.bytes, forged.cid, { verdict: true });
    assert.equal(r.status, "refused");
    assert.match(r.code ?? "", /^ucan\/match/); // the policy did not match
    assert.deepEqual(s.refs(), { "refs/heads/agent/fix-1": A });
    // The agent holds push, not create.
    const made = await s.op(agent, Commands.repoCreate, T0 + 3, { repo: "mine", defaultBranch: "main" }, [ok.cid]);
    assert.equal((await s.log.ingest(made.bytes, made.cid)).status, "refused");
  });

  it("bad shapes are refused at the boundary", async () => {
    const s = await space();
    const m = await s.member();
    const c = await s.create(m, T0);
    await s.log.ingest(c.bytes, c.cid);
    for (
      const updates of [
        [],
        [{ ref: "refs/heads/../x", old: Z, new: A }],
        [{ ref: "HEAD", old: Z, new: A }],
        [{ ref: "refs/heads/x", old: Z, new: "A".repeat(40) }],
        [{ ref: "refs/heads/x", old: "0".repeat(64), new: A }],
        [{ ref: "refs/heads/x", old: Z, new: A }, { ref: "refs/heads/x", old: Z, new: B }],
      ]
    ) {
      const bad = await s.push(m, T0 + 1, updates, [c.cid]);
      const r = await s.log.ingest(bad.bytes, bad.cid);
      assert.equal(r.status, "refused", JSON.stringify(updates));
      assert.match(r.code ?? "", /^input\//);
    }
  });

  it("a push signed after its signer was revoked is refused; what the revoker had seen stays", async () => {
    const s = await space();
    const m = await s.member();
    const c = await s.create(m, T0);
    const seen = await s.push(m, T0 + 1000, [{ ref: "refs/heads/main", old: Z, new: A }], [c.cid]);
    for (const o of [c, seen]) await s.log.ingest(o.bytes, o.cid);
    const record = await revoke(s.root, m.chain, { meta: { weft: { at: [T0 + 2000, 0], after: [seen.cid] } } });
    assert.ok(await s.authority.addRevocation(record.bytes));
    await s.log.revalidate();
    const late = await s.push(m, T0 + 3000, [{ ref: "refs/heads/main", old: A, new: B }], [seen.cid]);
    await s.log.ingest(late.bytes, late.cid);
    assert.equal(s.log.outcome(late.cid)?.applied, false);
    assert.deepEqual(s.refs(), { "refs/heads/main": A });
  });

  it("concurrent pushes to one ref reach the same winner in any delivery order", async () => {
    const s = await space();
    const [m1, m2, m3] = [await s.member(), await s.member(), await s.member()];
    const c = await s.create(m1, T0, [m1.signer.did, m2.signer.did, m3.signer.did]);
    const base = await s.push(m1, T0 + 10, [{ ref: "refs/heads/main", old: Z, new: A }], [c.cid]);
    // Three members saw `base` and pushed to main at once, and a task lives in the same graph.
    const p1 = await s.push(m1, T0 + 20, [{ ref: "refs/heads/main", old: A, new: B }], [base.cid]);
    const p2 = await s.push(m2, T0 + 20, [{ ref: "refs/heads/main", old: A, new: C }], [base.cid]);
    const p3 = await s.push(m3, T0 + 21, [{ ref: "refs/heads/main", old: A, new: "d".repeat(40) }], [base.cid]);
    const task = await s.op(m2, Commands.taskCreate, T0 + 22, { task: "task0001", title: "t" }, [p1.cid, p2.cid]);
    const after = await s.push(m1, T0 + 30, [{ ref: "refs/heads/dev", old: Z, new: A }], [task.cid, p3.cid]);
    const all = [c, base, p1, p2, p3, task, after];
    const reference = s.fresh();
    for (const o of all) await reference.ingest(o.bytes, o.cid);
    const winner = [p1, p2].sort((x, y) => (x.cid < y.cid ? -1 : 1))[0];
    const expected = s.refs(reference);
    assert.equal(expected["refs/heads/main"], winner === p1 ? B : C);
    assert.equal(expected["refs/heads/dev"], A);
    assert.equal(reference.reducer.tasks.size, 1);
    const verdicts = (l: OpLog) => all.map((o) => l.outcome(o.cid)?.applied);
    assert.deepEqual(verdicts(reference).filter((v) => v === false).length, 2);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), async (order) => {
        const l = s.fresh();
        for (const o of order) await l.ingest(o.bytes, o.cid);
        assert.deepEqual(s.refs(l), expected);
        assert.deepEqual(verdicts(l), verdicts(reference));
      }),
      { numRuns: 40 },
    );
  });
});
