/**
 * Budgets as every node reduces them: a budget in a delegation chain bounds
 * the sum of reservations under it (open ones at their maximum), so two
 * agents sharing one budget, reserving concurrently from two nodes, land
 * exactly as many calls as it allows — never one more, on any node, in any
 * delivery order. A child delegation that widens a budget is refused; a
 * paused agent's later operations are refused everywhere; receipts replace
 * reservations in the sums.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { type OpKind, OPS } from "../../protocol/tasks/ops.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import { budgetOf, budgetPolicy, narrowsBudget } from "../../protocol/ucan/budget.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { parsePolicy } from "../../protocol/ucan/policy/policy.ts";
import { agentGrants, parseUsd } from "../../protocol/agents/grants.ts";
import { FAMILIES } from "../../protocol/space/families.ts";
import { REPO_FAMILY, type RepoReducer, zeroId } from "../../protocol/repo/index.ts";
import { chain, signers } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000;
const CALL = 100_000; // micro-USD each call reserves
const N = 3; // calls the shared budget allows

/** A signed operation: `after` names what its author had seen. */
async function op(
  who: Signer,
  space: string,
  proofs: Delegation[],
  kind: OpKind,
  args: Record<string, Ipld>,
  at: number,
  after: string[] = [],
) {
  const inv = await invoke({
    issuer: who,
    subject: space,
    command: OPS[kind].command,
    args: { ...args, at: [at, 0], ...(after.length ? { after } : {}) },
    proofs,
    expiration: null,
  });
  return { bytes: inv.bytes, cid: inv.cid.toString() };
}

async function logWith(space: string, delegations: Delegation[]): Promise<OpLog> {
  const authority = new SpaceAuthority({ space, clock: () => Math.floor(T0 / 1000) });
  for (const d of delegations) await authority.addDelegation(d.bytes);
  return new OpLog(authority, new Diagnostics(), { now: () => T0 + 60_000, families: FAMILIES });
}

/** A signed operation of another family (a repository push): by command, not task-op kind. */
async function cmd(
  who: Signer,
  space: string,
  proofs: Delegation[],
  command: string,
  args: Record<string, Ipld>,
  at: number,
  after: string[],
) {
  const inv = await invoke({
    issuer: who,
    subject: space,
    command,
    args: { ...args, at: [at, 0], after },
    proofs,
    expiration: null,
  });
  return { bytes: inv.bytes, cid: inv.cid.toString() };
}

const applied = (log: OpLog, cids: string[]) => cids.filter((c) => log.outcome(c)?.applied === true);
const reserve = (task: string) => ({ task, usd: CALL, tokens: 10, dayUsd: CALL });

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("budgets", () => {
  it("reads and writes the budget caveat; a budget only shrinks down a chain", () => {
    const b = budgetOf(parsePolicy(budgetPolicy({ usd: 5_000_000, tokens: 1000 })));
    assert.deepEqual(b, { usd: 5_000_000, tokens: 1000 });
    assert.equal(budgetOf(parsePolicy([["<=", ".title", 3]])), undefined);
    assert.equal(narrowsBudget({ usd: 5 }, { usd: 5 }), undefined);
    assert.equal(narrowsBudget(undefined, { usd: 5 }), undefined);
    assert.match(narrowsBudget({ usd: 5 }, { usd: 6 }) ?? "", /more than its parent's/);
    assert.match(narrowsBudget({ usd: 5 }, { tokens: 6 }) ?? "", /does not/);
    assert.equal(parseUsd("5usd"), 5_000_000);
    assert.equal(parseUsd("$0.25"), 250_000);
    assert.equal(parseUsd("17musd"), 17);
    assert.throws(() => parseUsd("five dollars"), /not an amount/);
  });

  it("two agents sharing a budget, reserving concurrently on two nodes: exactly N land, in any delivery order", async () => {
    const [root, person, a, b] = await signers(4);
    const space = root.did;
    const shared = budgetPolicy({ usd: N * CALL });
    const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
    // The person's spending right carries the shared budget; each agent's its own (no wider).
    const [toSpend] = await chain([root, person], [{ cmd: Commands.taskSpend, pol: shared }]);
    const toA = (await chain([person, a], [{ cmd: Commands.taskSpend, pol: shared, sub: space }]))[0];
    const toB = (await chain([person, b], [{ cmd: Commands.taskSpend, pol: shared, sub: space }]))[0];
    const delegations = [toPerson, toSpend, toA, toB];

    const create = await op(person, space, [toPerson], "create", { task: "task0001", title: "fix it" }, T0);
    // Each agent, on its own node, reserves N times in a row (each after its last); the two are concurrent.
    const ops = [create];
    const mine: Record<string, string[]> = { a: [], b: [] };
    for (const [name, who, link] of [["a", a, toA], ["b", b, toB]] as const) {
      let last = create.cid;
      for (let i = 0; i < N; i++) {
        const r = await op(
          who,
          space,
          [toSpend, link],
          "reserve",
          reserve("task0001"),
          T0 + 10 + i * 10 + (name === "a" ? 0 : 5),
          [last],
        );
        ops.push(r);
        mine[name].push(r.cid);
        last = r.cid;
      }
    }
    const reservations = [...mine.a, ...mine.b];
    const verdicts = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const log = await logWith(space, delegations);
      for (const o of [create, ...shuffle(ops.slice(1), seed)]) {
        await log.ingest(o.bytes, undefined, { verdict: true });
        // At no point does any node count more than N calls.
        assert.ok(applied(log, reservations).length <= N, `seed ${seed}: more than ${N} reservations landed`);
      }
      const landed = applied(log, reservations);
      assert.equal(landed.length, N, `seed ${seed}: exactly ${N} land`);
      verdicts.add(landed.sort().join());
      const spend = log.reducer.spend;
      assert.equal(spend.agent(a.did).reserved.usd + spend.agent(b.did).reserved.usd, N * CALL);
      assert.equal(log.reducer.spend.task("task0001").reservations, N);
      // Spend per agent per task: each agent's share of the one task, not the task's whole.
      for (const [name, who] of [["a", a], ["b", b]] as const) {
        const onTask = spend.agentTask(who.did, "task0001");
        assert.equal(onTask.reservations, mine[name].filter((c) => landed.includes(c)).length);
        assert.deepEqual(onTask, spend.agent(who.did), "each spent on this task only");
      }
      assert.equal(spend.agentTask(a.did, "task0002").reservations, 0);
      const refused = reservations.find((c) => !landed.includes(c)) as string;
      assert.match((log.outcome(refused) as { reason?: string }).reason ?? "", /over budget/);
    }
    assert.equal(verdicts.size, 1, "every delivery order admits the same reservations");
  });

  it("a receipt replaces its reservation in the sums; over budget, later spending is refused", async () => {
    const [root, person, agent] = await signers(3);
    const space = root.did;
    const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
    const grants = agentGrants({ name: "fixer", labels: ["bug"], runners: ["container"], budget: { usd: 2 * CALL } });
    const spendGrant = grants.find((g) => g.command === Commands.taskSpend)!;
    const [toAgent] = await chain([person, agent], [{ cmd: spendGrant.command, pol: spendGrant.policy, sub: space }]);
    const log = await logWith(space, [toPerson, toAgent]);
    const proofs = [toPerson, toAgent];
    const create = await op(person, space, [toPerson], "create", { task: "task0002", title: "t" }, T0);
    await log.ingest(create.bytes, undefined, { verdict: true });
    const r1 = await op(agent, space, proofs, "reserve", reserve("task0002"), T0 + 1, [create.cid]);
    assert.equal((await log.ingest(r1.bytes, undefined, { verdict: true })).status, "applied");
    // Settled at a quarter of its maximum: room for the next call's maximum.
    const s1 = await op(
      agent,
      space,
      proofs,
      "settle",
      { task: "task0002", reservation: r1.cid, usd: CALL / 4, tokens: 3, dayUsd: CALL / 4, model: "m" },
      T0 + 2,
      [r1.cid],
    );
    assert.equal((await log.ingest(s1.bytes, undefined, { verdict: true })).status, "applied");
    const r2 = await op(agent, space, proofs, "reserve", reserve("task0002"), T0 + 3, [s1.cid]);
    assert.equal((await log.ingest(r2.bytes, undefined, { verdict: true })).status, "applied");
    // 0.25 + 1 of 2 calls drawn: a third full call does not fit.
    const r3 = await op(agent, space, proofs, "reserve", reserve("task0002"), T0 + 4, [r2.cid]);
    const third = await log.ingest(r3.bytes, undefined, { verdict: true });
    assert.equal(third.status, "refused");
    assert.match(third.reason ?? "", /over budget: 125000 of 200000 micro-USD/);
    const spend = log.reducer.spend.agent(agent.did);
    assert.deepEqual(spend.spent, { usd: CALL / 4, tokens: 3 });
    assert.deepEqual(spend.reserved, { usd: CALL, tokens: 10 });
    assert.equal(spend.refused, 1);
    // A settle twice, or of another's reservation, is refused.
    const again = await op(
      agent,
      space,
      proofs,
      "settle",
      { task: "task0002", reservation: r1.cid, usd: 1, tokens: 1, dayUsd: 1 },
      T0 + 5,
      [r3.cid],
    );
    assert.equal((await log.ingest(again.bytes, undefined, { verdict: true })).status, "refused");
    // The per-invocation caveat: one reservation bigger than the whole budget fails the policy itself.
    const huge = await op(
      agent,
      space,
      proofs,
      "reserve",
      { task: "task0002", usd: 3 * CALL, tokens: 1, dayUsd: 3 * CALL },
      T0 + 6,
      [again.cid],
    );
    const refusedHuge = await log.ingest(huge.bytes, undefined, { verdict: true });
    assert.equal(refusedHuge.status, "refused");
    assert.equal(refusedHuge.code, "ucan/match-error");
  });

  it("a child delegation with a bigger budget than its parent is refused", async () => {
    const [root, person, agent, sub] = await signers(4);
    const space = root.did;
    const [toPerson, toAgent, toSub] = await chain([root, person, agent, sub], [
      { cmd: "/weft" },
      { cmd: Commands.taskSpend, pol: budgetPolicy({ usd: 2 * CALL }) },
      { cmd: Commands.taskSpend, pol: budgetPolicy({ usd: 50 * CALL }) },
    ]);
    const log = await logWith(space, [toPerson, toAgent, toSub]);
    const create = await op(person, space, [toPerson], "create", { task: "task0003", title: "t" }, T0);
    await log.ingest(create.bytes, undefined, { verdict: true });
    // Small enough for every statement on its own; refused because the chain widens the budget.
    const r = await op(
      sub,
      space,
      [toPerson, toAgent, toSub],
      "reserve",
      { task: "task0003", usd: 1, tokens: 1, dayUsd: 1 },
      T0 + 1,
      [create.cid],
    );
    const out = await log.ingest(r.bytes, undefined, { verdict: true });
    assert.equal(out.status, "refused");
    assert.equal(out.code, "ucan/invalid-claim");
    assert.match(out.reason ?? "", /budget is wider than its parent's/);
    // Leaving the budget out under a parent that set one is just as refused as raising it.
    const [, , toBare] = await chain([root, person, agent, sub], [
      { cmd: "/weft" },
      { cmd: Commands.taskSpend, pol: budgetPolicy({ usd: 2 * CALL }) },
      { cmd: Commands.taskSpend },
    ]);
    const bareLog = await logWith(space, [toPerson, toAgent, toBare]);
    await bareLog.ingest(create.bytes, undefined, { verdict: true });
    const bare = await op(
      sub,
      space,
      [toPerson, toAgent, toBare],
      "reserve",
      { task: "task0003", usd: 1, tokens: 1, dayUsd: 1 },
      T0 + 1,
      [create.cid],
    );
    assert.equal((await bareLog.ingest(bare.bytes, undefined, { verdict: true })).code, "ucan/invalid-claim");
  });

  it("a paused agent's later operations are refused on every node, until it is resumed", async () => {
    const [root, person, agent] = await signers(3);
    const space = root.did;
    const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
    const [toAgent] = await chain([person, agent], [{
      cmd: Commands.taskSpend,
      pol: budgetPolicy({ usd: 10 * CALL }),
      sub: space,
    }]);
    const [toComment] = await chain([person, agent], [{ cmd: Commands.taskComment, sub: space }]);
    const proofs = [toPerson, toAgent];
    const create = await op(person, space, [toPerson], "create", { task: "task0004", title: "t" }, T0);
    const r1 = await op(agent, space, proofs, "reserve", reserve("task0004"), T0 + 1, [create.cid]);
    const pause = await op(person, space, [toPerson], "pause", { agent: agent.did, reason: "stop" }, T0 + 2, [r1.cid]);
    // The agent, not having seen the pause, keeps going: dated after it, refused anyway.
    const r2 = await op(agent, space, proofs, "reserve", reserve("task0004"), T0 + 3, [r1.cid]);
    const c = await op(agent, space, [toPerson, toComment], "comment", { task: "task0004", body: "hi" }, T0 + 4, [
      r1.cid,
    ]);
    // A receipt for the call in flight still lands (money spent is recorded).
    const s1 = await op(
      agent,
      space,
      proofs,
      "settle",
      { task: "task0004", reservation: r1.cid, usd: 5, tokens: 1, dayUsd: 5 },
      T0 + 5,
      [r1.cid],
    );
    const resume = await op(person, space, [toPerson], "resume", { agent: agent.did }, T0 + 6, [
      pause.cid,
      r2.cid,
      c.cid,
      s1.cid,
    ]);
    const r3 = await op(agent, space, proofs, "reserve", reserve("task0004"), T0 + 7, [resume.cid]);
    const all = [create, r1, pause, r2, c, s1, resume, r3];
    for (const order of [all, [all[0], ...shuffle(all.slice(1), 7)]]) {
      const log = await logWith(space, [toPerson, toAgent, toComment]);
      for (const o of order) await log.ingest(o.bytes);
      const verdict = (x: { cid: string }) => log.outcome(x.cid)?.applied;
      assert.deepEqual([r1, pause, r2, c, s1, resume, r3].map(verdict), [true, true, false, false, true, true, true]);
      assert.match((log.outcome(r2.cid) as { reason: string }).reason, /is paused/);
      assert.equal(log.reducer.spend.paused(agent.did), undefined);
    }
  });

  it("a paused agent's pushes are refused too, and its push grant bounds the refs it moves", async () => {
    const [root, person, agent] = await signers(3);
    const space = root.did;
    const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
    const grant = agentGrants({ name: "fixer", labels: ["bug"], runners: [], budget: { tokens: 5 } })
      .find((g) => g.command === Commands.repoPush)!;
    const [toPush] = await chain([person, agent], [{ cmd: grant.command, pol: grant.policy, sub: space }]);
    const proofs = [toPerson, toPush];
    const [A, B] = ["a".repeat(40), "b".repeat(40)];
    const update = (ref: string, old: string, to: string) => ({ repo: "weft", updates: [{ ref, old, new: to }] });
    const own = "refs/heads/agent/fixer/x";
    const create = await cmd(
      person,
      space,
      [toPerson],
      Commands.repoCreate,
      { repo: "weft", defaultBranch: "main" },
      T0,
      [],
    );
    const p1 = await cmd(agent, space, proofs, Commands.repoPush, update(own, zeroId(A), A), T0 + 1, [create.cid]);
    const outside = await cmd(agent, space, proofs, Commands.repoPush, update("refs/heads/x", zeroId(A), A), T0 + 2, [
      p1.cid,
    ]);
    const pause = await op(person, space, [toPerson], "pause", { agent: agent.did }, T0 + 3, [p1.cid]);
    const p2 = await cmd(agent, space, proofs, Commands.repoPush, update(own, A, B), T0 + 4, [p1.cid]);
    const resume = await op(person, space, [toPerson], "resume", { agent: agent.did }, T0 + 5, [pause.cid, p2.cid]);
    const p3 = await cmd(agent, space, proofs, Commands.repoPush, update(own, A, B), T0 + 6, [resume.cid]);
    const log = await logWith(space, [toPerson, toPush]);
    const ingested = [];
    for (const o of [create, p1, outside, pause, p2, resume, p3]) ingested.push(await log.ingest(o.bytes));
    assert.equal(ingested[2].status, "refused"); // outside its namespace: the chain's policy refuses it
    const verdict = (x: { cid: string }) => log.outcome(x.cid)?.applied;
    assert.deepEqual([p1, pause, p2, resume, p3].map(verdict), [true, true, false, true, true]);
    assert.match((log.outcome(p2.cid) as { reason: string }).reason, /is paused/);
    assert.equal(log.state<RepoReducer>(REPO_FAMILY).repos.get("weft")?.refs.get(own)?.commit, B);
  });

  it("an agent claims only tasks carrying one of its labels", async () => {
    const [root, person, agent] = await signers(3);
    const space = root.did;
    const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
    const grant = agentGrants({ name: "fixer", labels: ["bug"], runners: [], budget: { tokens: 5 } })
      .find((g) => g.command === Commands.taskClaim)!;
    const [toClaim] = await chain([person, agent], [{ cmd: grant.command, pol: grant.policy, sub: space }]);
    const log = await logWith(space, [toPerson, toClaim]);
    const proofs = [toPerson, toClaim];
    const bug = await op(person, space, [toPerson], "create", { task: "task0005", title: "b", labels: ["bug"] }, T0);
    const docs = await op(
      person,
      space,
      [toPerson],
      "create",
      { task: "task0006", title: "d", labels: ["docs"] },
      T0 + 1,
      [bug.cid],
    );
    for (const o of [bug, docs]) await log.ingest(o.bytes, undefined, { verdict: true });
    const lease = (task: string, labels: string[] | undefined, at: number) =>
      op(agent, space, proofs, "claim", { task, fence: 1, expires: at + 30_000, ...(labels ? { labels } : {}) }, at, [
        docs.cid,
      ]);
    const noLabels = await log.ingest((await lease("task0006", undefined, T0 + 2)).bytes, undefined, { verdict: true });
    assert.equal(noLabels.code, "ucan/match-error");
    const lying = await log.ingest((await lease("task0006", ["bug"], T0 + 3)).bytes, undefined, { verdict: true });
    assert.equal(lying.status, "refused");
    assert.match(lying.reason ?? "", /does not carry/);
    const honest = await log.ingest((await lease("task0005", ["bug"], T0 + 4)).bytes, undefined, { verdict: true });
    assert.equal(honest.status, "applied");
  });
  it("an agent creates run tasks for its tests, and no other tasks", async () => {
    const [root, person, agent] = await signers(3);
    const space = root.did;
    const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
    const grant = agentGrants({ name: "fixer", labels: ["bug"], runners: ["container"], budget: { tokens: 5 } })
      .find((g) => g.command === Commands.taskCreate)!;
    assert.ok(grant, "an agent with runner kinds may create its test runs");
    assert.equal(
      agentGrants({ name: "fixer", labels: ["bug"], runners: [], budget: { tokens: 5 } })
        .some((g) => g.command === Commands.taskCreate),
      false,
      "one without runner kinds creates nothing",
    );
    const [toCreate] = await chain([person, agent], [{ cmd: grant.command, pol: grant.policy, sub: space }]);
    const log = await logWith(space, [toPerson, toCreate]);
    const run = {
      runner: "container",
      program: `sha256:${"a".repeat(64)}`,
      args: ["sh", "-c", "true"],
      inputs: [],
      env: [],
      limits: { wallMs: 10_000, memoryMb: 64, outputBytes: 1024 },
    };
    const plain = await op(agent, space, [toPerson, toCreate], "create", { task: "task0007", title: "work" }, T0);
    assert.equal((await log.ingest(plain.bytes, undefined, { verdict: true })).code, "ucan/match-error");
    const tests = await op(agent, space, [toPerson, toCreate], "create", { task: "task0008", title: "t", run }, T0 + 1);
    assert.equal((await log.ingest(tests.bytes, undefined, { verdict: true })).status, "applied");
  });
});
