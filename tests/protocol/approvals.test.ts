/**
 * Approval gates as every node reduces them: with the space's gates set by
 * an admin, an agent's job with network, push to a gated ref, or spending
 * past the threshold lands only if it names a person's approval of a
 * request of the same kind, by the same agent, bound to the plan's hash,
 * in its causal past, unexpired, and covering the step — and every check
 * is exercised by a case that would pass without it. People are not gated.
 * Every delivery order reaches the same verdicts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { OPS } from "../../protocol/tasks/ops.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { FAMILIES } from "../../protocol/space/families.ts";
import { zeroId } from "../../protocol/repo/index.ts";
import { APPROVAL_FAMILY, type ApprovalReducer, planHash } from "../../protocol/approvals/index.ts";
import { chain, signers } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
const SPEC = {
  runner: "container",
  program: "docker.io/library/alpine:3",
  args: ["wget", "example.org"],
  inputs: [],
  env: [],
  limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1_000_000 },
};
const AGENT = { kind: "agent" } as const;
const C1 = "1".repeat(40);

interface Op {
  bytes: Uint8Array;
  cid: string;
}

async function sign(
  who: Signer,
  space: string,
  proofs: Delegation[],
  command: string,
  args: Record<string, Ipld>,
  at: number,
  after: string[],
): Promise<Op> {
  const inv = await invoke({
    issuer: who,
    subject: space,
    command,
    args: { ...args, at: [at, 0], ...(after.length ? { after } : {}) },
    proofs,
    expiration: null,
  });
  return { bytes: inv.bytes, cid: inv.cid.toString() };
}

/** A space: root → admin (everything); admin → agent (tasks, pushes, spending, requests; marked an agent); a reviewer who may only review tasks. */
async function world() {
  const [root, admin, agent, reviewer, person] = await signers(5);
  const space = root.did;
  const [toAdmin] = await chain([root, admin], [{ cmd: "/weft" }]);
  const [toPerson] = await chain([root, person], [{ cmd: "/weft" }]);
  const [toReviewer] = await chain([root, reviewer], [{ cmd: Commands.taskReview }]);
  const link = async (cmd: string, pol?: Ipld[]) =>
    (await chain([admin, agent], [{ cmd, pol, sub: space, meta: AGENT }]))[0];
  const agentTask = await link(Commands.task);
  const agentRepo = await link(Commands.repoPush);
  const agentRequest = await link(Commands.approvalRequest);
  // An agent given the approve right is still not a person: its approvals do not count.
  const agentApprove = await link(Commands.approvalApprove);
  const delegations = [toAdmin, toPerson, toReviewer, agentTask, agentRepo, agentRequest, agentApprove];
  const authority = new SpaceAuthority({ space, clock: () => Math.floor(T0 / 1000) });
  for (const d of delegations) await authority.addDelegation(d.bytes);
  const newLog = async () => {
    const a = new SpaceAuthority({ space, clock: () => Math.floor(T0 / 1000) });
    for (const d of delegations) await a.addDelegation(d.bytes);
    return new OpLog(a, new Diagnostics(), { now: () => T0 + 2 * HOUR, families: FAMILIES });
  };
  const asAdmin = (cmd: string, args: Record<string, Ipld>, at: number, after: string[] = []) =>
    sign(admin, space, [toAdmin], cmd, args, at, after);
  const asPerson = (cmd: string, args: Record<string, Ipld>, at: number, after: string[] = []) =>
    sign(person, space, [toPerson], cmd, args, at, after);
  const asAgent = (proof: Delegation, cmd: string, args: Record<string, Ipld>, at: number, after: string[] = []) =>
    sign(agent, space, [toAdmin, proof], cmd, args, at, after);
  const asReviewer = (cmd: string, args: Record<string, Ipld>, at: number, after: string[] = []) =>
    sign(reviewer, space, [toReviewer], cmd, args, at, after);
  return {
    space,
    agent,
    newLog,
    asAdmin,
    asPerson,
    asAgent,
    asReviewer,
    agentTask,
    agentRepo,
    agentRequest,
    agentApprove,
  };
}

type World = Awaited<ReturnType<typeof world>>;

/** An agent's request of `kind`, with its plan and that plan's hash. */
function request(w: World, id: string, kind: string, scope: Record<string, Ipld>, at: number, after: string[]) {
  const plan = JSON.stringify({ step: kind, ...scope, why: "the tests need it" });
  return w.asAgent(
    w.agentRequest,
    Commands.approvalRequest,
    { request: id, kind, plan, hash: planHash(plan), ...scope },
    at,
    after,
  );
}

const approve = (
  who: World["asPerson"],
  id: string,
  plan: { hash: string },
  at: number,
  after: string[],
  expires = at + HOUR,
) => who(Commands.approvalApprove, { request: id, hash: plan.hash, expires }, at, after);

async function ingestAll(log: OpLog, ops: Op[]) {
  for (const o of ops) await log.ingest(o.bytes, undefined, { verdict: true });
}

const verdict = (log: OpLog, op: Op) => log.outcome(op.cid);

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

/** The plan hash a request op carries. */
const hashOf = (log: OpLog, id: string) => ({
  hash: log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.get(id)?.hash ?? "",
});

describe("approval gates", () => {
  it("a job with network by an agent needs a matching approval; each condition is checked", async () => {
    const w = await world();
    const gates = await w.asAdmin(Commands.approvalGates, { network: true }, T0);
    const req = await request(w, "req00001", "network", { program: SPEC.program }, T0 + 10, [gates.cid]);
    const log = await w.newLog();
    await ingestAll(log, [gates, req]);
    const plan = hashOf(log, "req00001");
    const ok = await approve(w.asPerson, "req00001", plan, T0 + 20, [req.cid]);
    await ingestAll(log, [ok]);
    assert.equal(verdict(log, ok)?.applied, true);
    const job = (
      task: string,
      approval: string | undefined,
      at: number,
      after: string[],
      spec: Record<string, Ipld> = SPEC,
    ) =>
      w.asAgent(
        w.agentTask,
        OPS.create.command,
        {
          task,
          title: "fetch",
          run: { ...spec, network: true },
          ...(approval ? { approval } : {}),
        },
        at,
        after,
      );

    // Without naming one: refused, with the typed code.
    const none = await job("task0001", undefined, T0 + 30, [ok.cid]);
    const r = await log.ingest(none.bytes, undefined, { verdict: true });
    assert.equal(r.status, "refused");
    assert.equal(r.code, "approval/required");
    assert.match(r.reason ?? "", /needs a person's approval/);
    // Naming it: applied.
    const good = await job("task0002", ok.cid, T0 + 31, [ok.cid]);
    assert.equal((await log.ingest(good.bytes, undefined, { verdict: true })).status, "applied");
    // Another program than the one approved.
    const other = await job("task0003", ok.cid, T0 + 32, [good.cid], {
      ...SPEC,
      program: "docker.io/library/busybox:1",
    });
    assert.match((await log.ingest(other.bytes, undefined, { verdict: true })).reason ?? "", /approved program/);
    // Not in its causal past: made on what the agent had seen before the approval.
    const blind = await job("task0004", ok.cid, T0 + 33, [req.cid]);
    assert.match((await log.ingest(blind.bytes, undefined, { verdict: true })).reason ?? "", /causal past/);
    // Expired.
    const late = await job("task0005", ok.cid, T0 + 20 + HOUR + 1, [good.cid]);
    assert.match((await log.ingest(late.bytes, undefined, { verdict: true })).reason ?? "", /expired/);
    // A step the gates do not hold back (no network) needs none.
    const plain = await w.asAgent(
      w.agentTask,
      OPS.create.command,
      { task: "task0006", title: "t", run: SPEC },
      T0 + 34,
      [good.cid],
    );
    assert.equal((await log.ingest(plain.bytes, undefined, { verdict: true })).status, "applied");
    // A person's job with network is not gated.
    const mine = await w.asPerson(
      OPS.create.command,
      { task: "task0007", title: "t", run: { ...SPEC, network: true } },
      T0 + 35,
      [good.cid],
    );
    assert.equal((await log.ingest(mine.bytes, undefined, { verdict: true })).status, "applied");
  });

  it("only a person holding the approve right, naming the plan's hash, after seeing the request, approves — once", async () => {
    const w = await world();
    const gates = await w.asAdmin(Commands.approvalGates, { network: true }, T0);
    const req = await request(w, "req00002", "network", { program: SPEC.program }, T0 + 10, [gates.cid]);
    const log = await w.newLog();
    await ingestAll(log, [gates, req]);
    const plan = hashOf(log, "req00002");
    const job = (approval: string, at: number, after: string[], task: string) =>
      w.asAgent(
        w.agentTask,
        OPS.create.command,
        { task, title: "fetch", run: { ...SPEC, network: true }, approval },
        at,
        after,
      );

    // A member without the approve right: the log refuses the approval itself, so it lets nothing through.
    const byReviewer = await approve(w.asReviewer, "req00002", plan, T0 + 20, [req.cid]);
    const rr = await log.ingest(byReviewer.bytes, undefined, { verdict: true });
    assert.equal(rr.status, "refused");
    const j1 = await job(byReviewer.cid, T0 + 21, [req.cid], "task0011");
    assert.equal((await log.ingest(j1.bytes, undefined, { verdict: true })).code, "approval/required");
    // The agent approving its own request (it even holds the right): refused.
    const self = await w.asAgent(
      w.agentApprove,
      Commands.approvalApprove,
      { request: "req00002", hash: plan.hash, expires: T0 + HOUR },
      T0 + 22,
      [req.cid],
    );
    assert.match((await log.ingest(self.bytes, undefined, { verdict: true })).reason ?? "", /its own request/);
    // The wrong hash: refused.
    const wrong = await approve(w.asPerson, "req00002", { hash: planHash("something else") }, T0 + 23, [req.cid]);
    assert.match((await log.ingest(wrong.bytes, undefined, { verdict: true })).reason ?? "", /plan hash/);
    // Without having seen the request: refused.
    const unseen = await approve(w.asPerson, "req00002", plan, T0 + 24, [gates.cid]);
    assert.match((await log.ingest(unseen.bytes, undefined, { verdict: true })).reason ?? "", /without seeing/);
    for (const [i, a] of [self, wrong, unseen].entries()) {
      const j = await job(a.cid, T0 + 30 + i, [a.cid, req.cid], `task002${i}`);
      assert.equal((await log.ingest(j.bytes, undefined, { verdict: true })).code, "approval/required");
    }
    // A denial is the answer: a later approval does not overturn it.
    const deny = await w.asPerson(
      Commands.approvalDeny,
      { request: "req00002", hash: plan.hash, reason: "not today" },
      T0 + 40,
      [req.cid],
    );
    assert.equal((await log.ingest(deny.bytes, undefined, { verdict: true })).status, "applied");
    const after = await approve(w.asPerson, "req00002", plan, T0 + 41, [deny.cid]);
    assert.match((await log.ingest(after.bytes, undefined, { verdict: true })).reason ?? "", /already denied/);
    const state = log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.get("req00002");
    assert.equal(state?.status, "denied");
    assert.equal(state?.answer?.reason, "not today");
    // A request whose hash lies about its plan is refused as input.
    const lie = await w.asAgent(
      w.agentRequest,
      Commands.approvalRequest,
      { request: "req00003", kind: "network", program: SPEC.program, plan: "rm -rf /", hash: planHash("ls") },
      T0 + 50,
      [after.cid],
    );
    const lr = await log.ingest(lie.bytes, undefined, { verdict: true });
    assert.equal(lr.status, "refused");
    assert.match(lr.reason ?? "", /sha-256/);
  });

  it("pushes to gated refs and spending past the threshold need approvals of their kind and scope", async () => {
    const w = await world();
    const gates = await w.asAdmin(Commands.approvalGates, { push: ["refs/heads/release/*"], spendUsd: 300_000 }, T0);
    const repo = await w.asAdmin(Commands.repoCreate, { repo: "app", defaultBranch: "main" }, T0 + 1, [gates.cid]);
    const task = await w.asAdmin(OPS.create.command, { task: "task0100", title: "t" }, T0 + 2, [repo.cid]);
    const log = await w.newLog();
    await ingestAll(log, [gates, repo, task]);
    const push = (ref: string, approval: string | undefined, at: number, after: string[]) =>
      w.asAgent(
        w.agentRepo,
        Commands.repoPush,
        {
          repo: "app",
          updates: [{ ref, old: zeroId(C1), new: C1 }],
          ...(approval ? { approval } : {}),
        },
        at,
        after,
      );
    // An ungated ref: no approval needed.
    const free = await push("refs/heads/agent/x/1", undefined, T0 + 3, [task.cid]);
    assert.equal((await log.ingest(free.bytes, undefined, { verdict: true })).status, "applied");
    const gated = await push("refs/heads/release/1", undefined, T0 + 4, [free.cid]);
    assert.equal((await log.ingest(gated.bytes, undefined, { verdict: true })).code, "approval/required");
    // An approval of a spend request does not let a push through.
    const spendReq = await request(w, "req00101", "spend", { upToUsd: 500_000 }, T0 + 5, [gated.cid]);
    await ingestAll(log, [spendReq]);
    const spendOk = await approve(w.asPerson, "req00101", hashOf(log, "req00101"), T0 + 6, [spendReq.cid]);
    await ingestAll(log, [spendOk]);
    const wrongKind = await push("refs/heads/release/1", spendOk.cid, T0 + 7, [spendOk.cid]);
    assert.match(
      (await log.ingest(wrongKind.bytes, undefined, { verdict: true })).reason ?? "",
      /approved a spend step/,
    );
    const pushReq = await request(w, "req00102", "push", { refs: ["refs/heads/release/1"] }, T0 + 8, [wrongKind.cid]);
    await ingestAll(log, [pushReq]);
    const pushOk = await approve(w.asPerson, "req00102", hashOf(log, "req00102"), T0 + 9, [pushReq.cid]);
    await ingestAll(log, [pushOk]);
    // A ref the request did not name is outside its scope.
    const wider = await push("refs/heads/release/2", pushOk.cid, T0 + 10, [pushOk.cid]);
    assert.match(
      (await log.ingest(wider.bytes, undefined, { verdict: true })).reason ?? "",
      /does not cover refs\/heads\/release\/2/,
    );
    const landed = await push("refs/heads/release/1", pushOk.cid, T0 + 11, [wider.cid]);
    assert.equal((await log.ingest(landed.bytes, undefined, { verdict: true })).status, "applied");

    // Spending: up to the threshold freely, past it only with the approval, and only up to what it names.
    const reserve = (usd: number, approval: string | undefined, at: number, after: string[]) =>
      w.asAgent(
        w.agentTask,
        OPS.reserve.command,
        { task: "task0100", usd, tokens: 1, dayUsd: usd, ...(approval ? { approval } : {}) },
        at,
        after,
      );
    const r1 = await reserve(300_000, undefined, T0 + 12, [landed.cid]);
    assert.equal((await log.ingest(r1.bytes, undefined, { verdict: true })).status, "applied");
    const r2 = await reserve(100_000, undefined, T0 + 13, [r1.cid]);
    assert.equal((await log.ingest(r2.bytes, undefined, { verdict: true })).code, "approval/required");
    const r3 = await reserve(100_000, spendOk.cid, T0 + 14, [r2.cid]);
    assert.equal((await log.ingest(r3.bytes, undefined, { verdict: true })).status, "applied");
    const r4 = await reserve(200_000, spendOk.cid, T0 + 15, [r3.cid]);
    assert.match((await log.ingest(r4.bytes, undefined, { verdict: true })).reason ?? "", /up to 500000/);
  });

  it("every delivery order reaches the same verdicts", async () => {
    const w = await world();
    const gates = await w.asAdmin(Commands.approvalGates, { network: true, push: ["refs/heads/main"] }, T0);
    const req = await request(w, "req00201", "network", { program: SPEC.program }, T0 + 10, [gates.cid]);
    const plan = JSON.stringify({ step: "network", program: SPEC.program, why: "the tests need it" });
    const ok = await approve(w.asPerson, "req00201", { hash: planHash(plan) }, T0 + 20, [req.cid]);
    const job = (task: string, approval: string | undefined, at: number, after: string[]) =>
      w.asAgent(
        w.agentTask,
        OPS.create.command,
        { task, title: "f", run: { ...SPEC, network: true }, ...(approval ? { approval } : {}) },
        at,
        after,
      );
    // Concurrent with the approval (made on the request only), and after it.
    const early = await job("task0201", ok.cid, T0 + 21, [req.cid]);
    const later = await job("task0202", ok.cid, T0 + 22, [ok.cid]);
    const bare = await job("task0203", undefined, T0 + 23, [later.cid]);
    // Gates changed later: made after them, a job with network needs no approval any more.
    const ungate = await w.asAdmin(Commands.approvalGates, { push: ["refs/heads/main"] }, T0 + 24, [bare.cid]);
    const free = await job("task0204", undefined, T0 + 25, [ungate.cid]);
    const ops = [gates, req, ok, early, later, bare, ungate, free];
    const expected = [true, true, true, false, true, false, true, true];
    for (let seed = 1; seed <= 16; seed++) {
      const log = await w.newLog();
      await ingestAll(log, seed === 1 ? ops : shuffle(ops, seed));
      assert.deepEqual(ops.map((o) => verdict(log, o)?.applied), expected, `seed ${seed}`);
    }
  });
});
