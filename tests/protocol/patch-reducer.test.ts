/**
 * The patch reducer on its own, in arrival order: a patch's life (propose,
 * revise, review with anchored comments, merge), who may do what, and the
 * merge gate — a merge lands only on a verified, passing run of the head
 * commit recorded in the task log, and says which check is missing or
 * failed otherwise.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nobleVerifier } from "../../protocol/identity/ed25519.ts";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import { TaskReducer } from "../../protocol/tasks/reducer.ts";
import { RepoReducer } from "../../protocol/repo/reducer.ts";
import { parseRepoOp, zeroId } from "../../protocol/repo/ops.ts";
import { parseTaskOp } from "../../protocol/tasks/ops.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { type MergeOp, PatchReducer } from "../../protocol/patch/reducer.ts";
import { parsePatchOp, PATCH_OPS, type PatchOpKind } from "../../protocol/patch/ops.ts";
import { verifyEvidence } from "../../protocol/patch/evidence.ts";
import { approversOf } from "../../protocol/patch/state.ts";
import { mergeReadiness } from "../../protocol/patch/readiness.ts";
import type { RunStatus } from "../../protocol/runner/runner.ts";
import { commitId, signedRun, testSpec } from "../helpers/patch-runs.ts";
import { signer } from "../helpers/principals.ts";

const verifier = nobleVerifier();
const T0 = 1_800_000_000_000;
const BASE = commitId(1);
const HEAD = commitId(2);

async function setting() {
  const root = await signer();
  const runner = await signer();
  const authority = new SpaceAuthority({ space: root.did, verifier });
  const grant = await delegate({
    issuer: root,
    audience: runner.did,
    subject: root.did,
    command: "/weft/run",
    expiration: null,
  });
  await authority.addDelegation(grant.bytes);
  const tasks = new TaskReducer();
  const patches = new PatchReducer();
  let clock = 0;
  let n = 0;
  const repos = new RepoReducer();
  const context = {
    precedes: () => true,
    witnessTime: () => Infinity,
    reducer: (name: string) => (name === "task" ? tasks : name === "repo" ? repos : undefined),
    budgetsOf: () => [],
    isAgent: () => false,
    principalOf: (op: { author: string }) => op.author,
  };
  repos.apply(
    parseRepoOp(
      Commands.repoCreate,
      {
        repo: "weft",
        at: [T0, 0],
        defaultBranch: "main",
        maintainers: ["did:key:maintainer"],
      },
      "repo0",
      "did:key:maintainer",
    ),
    context,
  );
  const patchOp = (kind: PatchOpKind, author: string, args: Record<string, unknown>) =>
    parsePatchOp(PATCH_OPS[kind].command, { patch: "patch0001", at: [T0 + ++clock, 0], ...args }, `op${++n}`, author);
  const apply = (kind: PatchOpKind, author: string, args: Record<string, unknown>) => {
    const op = patchOp(kind, author, args);
    return { op, outcome: patches.apply(op, context) };
  };
  /** A run task on `commit` that `runner` ran to `status`; returns the signed manifest. */
  const run = async (
    task: string,
    commit: string,
    status: RunStatus,
    recorded: "success" | "failure" = "success",
    program?: string,
  ) => {
    const spec = testSpec(commit, program);
    const taskOp = (cmd: string, args: Record<string, unknown>) =>
      tasks.apply(parseTaskOp(cmd, { task, at: [T0 + ++clock, 0], ...args }, `op${++n}`, runner.did));
    taskOp(Commands.taskCreate, { title: "tests", run: spec });
    taskOp(Commands.taskClaim, { fence: 1, expires: T0 + clock + 60_000 });
    const built = await signedRun(runner, [grant], { space: root.did, task, spec, status, endedAt: T0 + clock });
    const r = taskOp(Commands.taskResult, { fence: 1, outcome: recorded, manifest: built.cid });
    assert.ok(r.applied);
    return built;
  };
  const merge = async (author: string, revision: string, evidence: Uint8Array[], onto = zeroId(HEAD)) => {
    const op = patchOp("merge", author, {
      revision,
      onto,
      commit: HEAD,
      strategy: "fast-forward",
      evidence,
    }) as MergeOp;
    op.verified = await Promise.all(
      evidence.map((b) => verifyEvidence(b, op.args.at[0], { validator: authority.validator, verifier })),
    );
    return { op, outcome: patches.apply(op, context) };
  };
  return { root, runner, grant, authority, patches, tasks, repos, apply, run, merge };
}

const propose = { repo: "weft", target: "refs/heads/main", base: BASE, head: HEAD, title: "Fix the flaky test" };

describe("patch reducer", () => {
  it("keeps revisions and reviews anchored to the revision they were made on", async () => {
    const s = await setting();
    const { op: p } = s.apply("propose", "did:key:author", { ...propose, description: "why", tasks: ["task0001"] });
    const { op: r2, outcome } = s.apply("revise", "did:key:author", { head: commitId(3) });
    assert.ok(outcome.applied);
    const review = s.apply("review", "did:key:reviewer", {
      revision: p.cid,
      verdict: "request-changes",
      comments: [{ path: "src/a.ts", line: 12, body: "off by one" }],
    });
    assert.ok(review.outcome.applied);
    s.apply("review", "did:key:reviewer", { revision: r2.cid, verdict: "approve" });
    const patch = s.patches.patches.get("patch0001")!;
    assert.deepEqual(patch.revisions.map((r) => r.head), [HEAD, commitId(3)]);
    assert.equal(patch.revisions[1].description, "why");
    assert.deepEqual(patch.reviews[0].comments, [{ path: "src/a.ts", line: 12, body: "off by one" }]);
    assert.deepEqual(approversOf(patch, r2.cid), ["did:key:reviewer"]);
    assert.deepEqual(approversOf(patch, p.cid), []);
  });

  it("refuses what does not fit, changing nothing", async () => {
    const s = await setting();
    const { op: p } = s.apply("propose", "did:key:author", propose);
    assert.match(reason(s.apply("propose", "did:key:other", propose).outcome), /already exists/);
    assert.match(reason(s.apply("revise", "did:key:other", { head: commitId(3) }).outcome), /only the patch's author/);
    assert.match(reason(s.apply("revise", "did:key:author", { head: HEAD }).outcome), /changes nothing/);
    assert.match(
      reason(s.apply("review", "did:key:r", { revision: "nope", verdict: "approve" }).outcome),
      /not a revision/,
    );
    assert.match(
      reason(s.apply("review", "did:key:author", { revision: p.cid, verdict: "approve" }).outcome),
      /own patch/,
    );
    assert.match(reason(s.apply("reopen", "did:key:author", {}).outcome), /not closed/);
    const patch = s.patches.patches.get("patch0001")!;
    assert.equal(patch.revisions.length, 1);
    assert.equal(patch.reviews.length, 0);
    assert.equal(patch.history.length, 1);
  });

  it("merges only on a verified passing run of the head commit", async () => {
    const s = await setting();
    const { op: p } = s.apply("propose", "did:key:author", propose);
    const missing = await s.merge("did:key:maintainer", p.cid, []);
    assert.match(reason(missing.outcome), /tests missing: needs a passing run on the head commit/);
    const failed = await s.run("task00000001", HEAD, "failed", "failure");
    const refused = await s.merge("did:key:maintainer", p.cid, [failed.bytes]);
    assert.match(reason(refused.outcome), /tests failed: task task00000001 ended failed/);
    const other = await s.run("task00000002", BASE, "succeeded");
    assert.match(reason((await s.merge("did:key:maintainer", p.cid, [other.bytes])).outcome), /not the head/);
    assert.equal(s.patches.patches.get("patch0001")!.status, "open");
    const passed = await s.run("task00000003", HEAD, "succeeded");
    const merged = await s.merge("did:key:maintainer", p.cid, [failed.bytes, passed.bytes]);
    assert.ok(merged.outcome.applied, reason(merged.outcome));
    const patch = s.patches.patches.get("patch0001")!;
    assert.equal(patch.status, "merged");
    assert.equal(patch.merge?.commit, HEAD);
    assert.equal(s.repos.repos.get("weft")?.refs.get("refs/heads/main")?.commit, HEAD, "the merge moved the ref");
    assert.equal(s.repos.repos.get("weft")?.pushes.at(-1)?.family, "patch");
    assert.equal(patch.merge?.ref, "refs/heads/main");
    assert.deepEqual(patch.merge?.checks.map((c) => [c.name, c.status, c.run?.task]), [
      ["tests", "passed", "task00000003"],
    ]);
  });

  it("tells what blocks a merge before one is signed, and gathers the evidence a merge carries", async () => {
    const s = await setting();
    s.apply("propose", "did:key:author", propose);
    const manifests = new Map<string, Uint8Array>();
    const readiness = () =>
      mergeReadiness({
        patch: s.patches.patches.get("patch0001")!,
        policy: s.patches.policyFor("weft"),
        tasks: s.tasks.tasks.values(),
        manifest: (cid) => Promise.resolve(manifests.get(cid)),
        validator: s.authority.validator,
        verifier,
        now: T0 + 100_000,
      });
    assert.match((await readiness()).blockers.join("\n"), /check tests missing/);
    const failed = await s.run("task00000001", HEAD, "failed", "failure");
    assert.match((await readiness()).blockers.join("\n"), /manifest .* of task task00000001 is not on this node/);
    manifests.set(failed.cid, failed.bytes);
    const r1 = await readiness();
    assert.deepEqual(r1.checks.map((c) => c.status), ["failed"]);
    assert.deepEqual(r1.evidence, []);
    const passed = await s.run("task00000002", HEAD, "succeeded");
    manifests.set(passed.cid, passed.bytes);
    const r2 = await readiness();
    assert.deepEqual(r2.blockers, []);
    assert.deepEqual(r2.evidence, [passed.bytes]);
    const merged = await s.merge("did:key:maintainer", r2.revision, r2.evidence);
    assert.ok(merged.outcome.applied, reason(merged.outcome));
  });

  it("moves the target ref through the repository: only a maintainer lands on the default branch, and not if it moved", async () => {
    const s = await setting();
    const { op: p } = s.apply("propose", "did:key:author", propose);
    assert.match(
      reason(s.apply("propose", "did:key:author", { ...propose, patch: "patch0002", repo: "nope" }).outcome),
      /repository nope does not exist/,
    );
    const passed = await s.run("task00000003", HEAD, "succeeded");
    const outsider = await s.merge("did:key:someone", p.cid, [passed.bytes]);
    assert.match(reason(outsider.outcome), /did not move: only a maintainer of weft moves its default branch/);
    const stale = await s.merge("did:key:maintainer", p.cid, [passed.bytes], BASE);
    assert.match(reason(stale.outcome), /did not move: stale: refs\/heads\/main is at nothing/);
    assert.equal(s.patches.patches.get("patch0001")!.status, "open");
    assert.equal(s.repos.repos.get("weft")?.refs.size, 0);
  });

  it("does not count a run whose task recorded no such result, or a stale revision", async () => {
    const s = await setting();
    const { op: p } = s.apply("propose", "did:key:author", propose);
    // Signed by a runner that held the capability, but no task in the log records it.
    const unrecorded = await signedRun(s.runner, [s.grant], {
      space: s.root.did,
      task: "task00000009",
      spec: testSpec(HEAD),
      status: "succeeded",
      endedAt: T0,
    });
    const refused = await s.merge("did:key:maintainer", p.cid, [unrecorded.bytes]);
    assert.match(reason(refused.outcome), /tests missing: .*task00000009, which is not a run task/);
    const passed = await s.run("task00000003", HEAD, "succeeded");
    s.apply("revise", "did:key:author", { head: commitId(4) });
    const stale = await s.merge("did:key:maintainer", p.cid, [passed.bytes]);
    assert.match(reason(stale.outcome), /not the latest revision/);
  });

  it("holds a repository to its policy: named checks and approvals", async () => {
    const s = await setting();
    s.patches.apply(
      parsePatchOp(
        PATCH_OPS.policy.command,
        {
          at: [T0, 0],
          repo: "weft",
          checks: [{ name: "unit", runner: "wasm" }, { name: "lint", program: "lint" }],
          approvals: 1,
        },
        "policy1",
        "did:key:admin",
      ),
      {
        precedes: () => true,
        witnessTime: () => Infinity,
        reducer: () => undefined,
        budgetsOf: () => [],
        isAgent: () => false,
        principalOf: (op: { author: string }) => op.author,
      },
    );
    const { op: p } = s.apply("propose", "did:key:author", propose);
    const unit = await s.run("task00000003", HEAD, "succeeded");
    const refused = await s.merge("did:key:maintainer", p.cid, [unit.bytes]);
    assert.match(reason(refused.outcome), /lint missing: needs a passing run of lint/);
    assert.doesNotMatch(reason(refused.outcome), /unit/);
    const lint = await s.run("task00000004", HEAD, "succeeded", "success", "lint");
    const unapproved = await s.merge("did:key:maintainer", p.cid, [unit.bytes, lint.bytes]);
    assert.match(reason(unapproved.outcome), /needs 1 approval\(s\)/);
    s.apply("review", "did:key:author", { revision: p.cid, verdict: "comment", body: "ready" });
    s.apply("review", "did:key:reviewer", { revision: p.cid, verdict: "approve" });
    const merged = await s.merge("did:key:maintainer", p.cid, [unit.bytes, lint.bytes]);
    assert.ok(merged.outcome.applied, reason(merged.outcome));
    assert.deepEqual(s.patches.patches.get("patch0001")!.merge?.checks.map((c) => c.status), ["passed", "passed"]);
  });

  it("refuses evidence whose manifest was tampered with, before any reducer sees it", async () => {
    const s = await setting();
    const passed = await s.run("task00000003", HEAD, "succeeded");
    const tampered = passed.bytes.slice();
    const i = new TextDecoder().decode(tampered).indexOf("succeeded");
    tampered.set(new TextEncoder().encode('failed"  '), i); // same length, different claim
    await assert.rejects(
      verifyEvidence(tampered, T0 + 10_000, { validator: s.authority.validator, verifier }),
      (e: { code: string }) => /^artifact\//.test(e.code) || /^cbor\//.test(e.code) || /^input\//.test(e.code),
    );
  });

  it("refuses evidence from a runner without the run capability", async () => {
    const s = await setting();
    const stranger = await signer();
    const built = await signedRun(stranger, [], {
      space: s.root.did,
      task: "task00000003",
      spec: testSpec(HEAD),
      status: "succeeded",
      endedAt: T0,
    });
    await assert.rejects(
      verifyEvidence(built.bytes, T0 + 10_000, { validator: s.authority.validator, verifier }),
      { code: "artifact/unauthorized" },
    );
  });
});

function reason(o: { applied: boolean; reason?: string }): string {
  return o.applied ? "(applied)" : o.reason as string;
}
