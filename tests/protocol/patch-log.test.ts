/**
 * Patches in the space's operation log, signed and judged like tasks: the
 * merge gate is decided from the log alone, so every node — whatever order
 * the operations reach it in — refuses a merge whose required check failed
 * or is missing, and applies the same merge once its run passed; concurrent
 * reviews converge; a principal holding only /weft/patch/propose (an agent)
 * proposes and revises but cannot merge.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { type OpKind, OPS } from "../../protocol/tasks/ops.ts";
import { PATCH_OPS, type PatchOpKind } from "../../protocol/patch/ops.ts";
import { PATCH_FAMILY } from "../../protocol/patch/family.ts";
import { FAMILIES } from "../../protocol/space/families.ts";
import { REPO_FAMILY, type RepoReducer } from "../../protocol/repo/reducer.ts";
import type { PatchReducer } from "../../protocol/patch/reducer.ts";
import { approversOf } from "../../protocol/patch/state.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { delegate, type Delegation } from "../../protocol/ucan/delegation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import type { RunStatus } from "../../protocol/runner/runner.ts";
import { commitId, signedRun, testSpec } from "../helpers/patch-runs.ts";
import { signer } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000;
const PATCH = "patch0001";
const BASE = commitId(1);
const HEAD = commitId(2);
const ZERO = "0".repeat(40);

interface Member {
  signer: Signer;
  chain: Delegation[];
}
interface Signed {
  bytes: Uint8Array;
  cid: string;
}

async function space() {
  const root = await signer();
  const authority = new SpaceAuthority({ space: root.did });
  const member = async (command: string = Commands.all): Promise<Member> => {
    const s = await signer();
    const d = await delegate({ issuer: root, audience: s.did, subject: root.did, command, expiration: null });
    await authority.addDelegation(d.bytes);
    return { signer: s, chain: [d] };
  };
  const sign = async (by: Member, command: string, args: Record<string, unknown>): Promise<Signed> => {
    const inv = await invoke({
      issuer: by.signer,
      subject: root.did,
      command,
      args: args as Record<string, Ipld>,
      proofs: by.chain,
      expiration: null,
    });
    return { bytes: inv.bytes, cid: inv.cid.toString() };
  };
  const patchOp = (by: Member, kind: PatchOpKind, at: number, args: Record<string, unknown>, after: string[] = []) =>
    sign(by, PATCH_OPS[kind].command, { patch: PATCH, ...args, at: [at, 0], after });
  const taskOp = (by: Member, kind: OpKind, task: string, at: number, args: Record<string, unknown>, after: string[]) =>
    sign(by, OPS[kind].command, { task, ...args, at: [at, 0], after });
  /** A run task on `commit`, claimed and run by `runner`, its result naming the signed manifest. */
  const run = async (runner: Member, task: string, commit: string, status: RunStatus, at: number, after: string[]) => {
    const spec = testSpec(commit);
    const create = await taskOp(runner, "create", task, at, { title: "tests", run: spec }, after);
    const claim = await taskOp(runner, "claim", task, at + 10, { fence: 1, expires: at + 60_000 }, [create.cid]);
    const manifest = await signedRun(runner.signer, runner.chain, {
      space: root.did,
      task,
      spec,
      status,
      endedAt: at + 500,
    });
    const outcome = status === "succeeded" ? "success" : "failure";
    const result = await taskOp(runner, "result", task, at + 1000, { fence: 1, outcome, manifest: manifest.cid }, [
      claim.cid,
    ]);
    return { ops: [create, claim, result], manifest, result };
  };
  const log = () => new OpLog(authority, new Diagnostics(), { now: () => T0, families: FAMILIES });
  /** The repository patches land in, with `maintainer` moving its default branch. */
  const repo = (maintainer: Member, at: number) =>
    sign(maintainer, Commands.repoCreate, {
      repo: "weft",
      defaultBranch: "main",
      maintainers: [maintainer.signer.did],
      at: [at, 0],
      after: [],
    });
  return { root, authority, member, patchOp, taskOp, run, repo, log };
}

const proposal = { repo: "weft", target: "refs/heads/main", base: BASE, head: HEAD, title: "Fix the flaky test" };

async function replay(log: OpLog, ops: readonly Signed[]): Promise<OpLog> {
  for (const o of ops) await log.ingest(o.bytes);
  return log;
}

const patchOf = (log: OpLog) => log.state<PatchReducer>(PATCH_FAMILY).patches.get(PATCH);
const reasonOf = (log: OpLog, cid: string) => {
  const o = log.outcome(cid);
  return o === undefined ? "not in the log" : o.applied ? "applied" : o.reason;
};

describe("patches in the operation log", () => {
  it("refuses a merge whose check failed on every node, in every order, and applies one whose run passed", async () => {
    const s = await space();
    const [author, runner, maintainer] = [await s.member(), await s.member(), await s.member()];
    const repo = await s.repo(maintainer, T0 - 70_000);
    const propose = await s.patchOp(author, "propose", T0 - 60_000, proposal, [repo.cid]);
    const failing = await s.run(runner, "task00000001", HEAD, "failed", T0 - 50_000, [propose.cid]);
    const refused = await s.patchOp(maintainer, "merge", T0 - 40_000, {
      revision: propose.cid,
      onto: ZERO,
      commit: HEAD,
      strategy: "fast-forward",
      evidence: [failing.manifest.bytes],
    }, [failing.result.cid]);
    const bare = await s.patchOp(maintainer, "merge", T0 - 39_000, {
      revision: propose.cid,
      onto: ZERO,
      commit: HEAD,
      strategy: "fast-forward",
      evidence: [],
    }, [refused.cid]);
    const passing = await s.run(runner, "task00000002", HEAD, "succeeded", T0 - 30_000, [bare.cid]);
    const merge = await s.patchOp(maintainer, "merge", T0 - 20_000, {
      revision: propose.cid,
      onto: ZERO,
      commit: HEAD,
      strategy: "fast-forward",
      evidence: [passing.manifest.bytes],
    }, [passing.result.cid]);
    const ops = [repo, propose, ...failing.ops, refused, bare, ...passing.ops, merge];
    const verdicts = (log: OpLog) =>
      JSON.stringify([
        ops.map((o) => reasonOf(log, o.cid)),
        patchOf(log),
        [...(log.state<RepoReducer>(REPO_FAMILY).repos.get("weft")?.refs ?? [])],
      ]);
    const first = await replay(s.log(), ops);
    assert.match(reasonOf(first, refused.cid), /tests failed: task task00000001 ended failed/);
    assert.match(reasonOf(first, bare.cid), /tests missing/);
    assert.equal(reasonOf(first, merge.cid), "applied");
    assert.equal(patchOf(first)?.status, "merged");
    assert.equal(patchOf(first)?.merge?.checks[0].run?.task, "task00000002");
    const main = first.state<RepoReducer>(REPO_FAMILY).repos.get("weft")?.refs.get("refs/heads/main");
    assert.deepEqual([main?.commit, main?.op], [HEAD, merge.cid], "the merge moved the target ref");
    const want = verdicts(first);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length }), async (order) => {
        assert.equal(verdicts(await replay(s.log(), order)), want);
      }),
      { numRuns: 25 },
    );
  });

  it("converges on concurrent reviews over random delivery orders", async () => {
    const s = await space();
    const author = await s.member();
    const reviewers = [await s.member(), await s.member(), await s.member()];
    const repo = await s.repo(author, T0 - 70_000);
    const propose = await s.patchOp(author, "propose", T0 - 60_000, proposal, [repo.cid]);
    const revise = await s.patchOp(author, "revise", T0 - 50_000, { head: commitId(3) }, [propose.cid]);
    const ops: Signed[] = [repo, propose, revise];
    // Each reviewer reviews both revisions without seeing the others' reviews; one changes its mind.
    for (const [i, r] of reviewers.entries()) {
      ops.push(
        await s.patchOp(r, "review", T0 - 45_000 + i, {
          revision: propose.cid,
          verdict: "comment",
          comments: [{ path: "src/log.ts", line: 10 + i, body: `nit ${i}` }],
        }, [propose.cid]),
      );
      ops.push(
        await s.patchOp(r, "review", T0 - 40_000 + i, {
          revision: revise.cid,
          verdict: i === 0 ? "request-changes" : "approve",
          body: `round 2 from ${i}`,
        }, [revise.cid]),
      );
    }
    const last = ops[ops.length - 1];
    ops.push(
      await s.patchOp(reviewers[0], "review", T0 - 30_000, { revision: revise.cid, verdict: "approve" }, [
        last.cid,
        ops[3].cid,
      ]),
    );
    const digest = (log: OpLog) => JSON.stringify([ops.map((o) => reasonOf(log, o.cid)), patchOf(log)]);
    const first = await replay(s.log(), ops);
    const patch = patchOf(first)!;
    assert.equal(patch.reviews.length, 7);
    assert.deepEqual(approversOf(patch, revise.cid).length, 3, "the reviewer who asked for changes approved later");
    assert.ok(ops.every((o) => reasonOf(first, o.cid) === "applied"));
    const want = digest(first);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length }), async (order) => {
        assert.equal(digest(await replay(s.log(), order)), want);
      }),
      { numRuns: 40 },
    );
  });

  it("lets an agent holding /weft/patch/propose propose and revise, and refuses its merge", async () => {
    const s = await space();
    const agent = await s.member(Commands.patchPropose);
    const runner = await s.member();
    const repo = await s.repo(runner, T0 - 70_000);
    const propose = await s.patchOp(agent, "propose", T0 - 60_000, proposal, [repo.cid]);
    const revise = await s.patchOp(agent, "revise", T0 - 55_000, { head: commitId(3) }, [propose.cid]);
    const passing = await s.run(runner, "task00000002", commitId(3), "succeeded", T0 - 50_000, [revise.cid]);
    const merge = await s.patchOp(agent, "merge", T0 - 40_000, {
      revision: revise.cid,
      onto: ZERO,
      commit: commitId(3),
      strategy: "fast-forward",
      evidence: [passing.manifest.bytes],
    }, [passing.result.cid]);
    const log = s.log();
    for (const o of [repo, propose, revise, ...passing.ops]) {
      assert.notEqual((await log.ingest(o.bytes)).status, "refused");
    }
    const r = await log.ingest(merge.bytes, undefined, { verdict: true });
    assert.equal(r.status, "refused");
    assert.match(r.code ?? "", /^ucan\//);
    assert.equal(patchOf(log)?.status, "open");
    assert.equal(patchOf(log)?.revisions.length, 2);
  });

  it("refuses a merge whose evidence was not signed by a runner holding the run capability", async () => {
    const s = await space();
    const [author, maintainer] = [await s.member(), await s.member()];
    const outsider = { signer: await signer(), chain: [] };
    const repo = await s.repo(maintainer, T0 - 70_000);
    const propose = await s.patchOp(author, "propose", T0 - 60_000, proposal, [repo.cid]);
    const forged = await signedRun(outsider.signer, [], {
      space: s.root.did,
      task: "task00000003",
      spec: testSpec(HEAD),
      status: "succeeded",
      endedAt: T0 - 50_000,
    });
    const merge = await s.patchOp(maintainer, "merge", T0 - 40_000, {
      revision: propose.cid,
      onto: ZERO,
      commit: HEAD,
      strategy: "fast-forward",
      evidence: [forged.bytes],
    }, [propose.cid]);
    const log = await replay(s.log(), [repo, propose]);
    const r = await log.ingest(merge.bytes, undefined, { verdict: true });
    assert.equal(r.status, "refused");
    assert.equal(r.code, "artifact/unauthorized");
    assert.match(r.reason ?? "", /^evidence\[0\]: /);
    assert.equal(patchOf(log)?.status, "open");
  });
});
