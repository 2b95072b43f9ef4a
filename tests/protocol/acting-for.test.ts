/**
 * Whom an operation counts for. A person who pairs a bridge delegates to it
 * with a pairing proof in the delegation's signed meta; what the bridge
 * signs under that delegation counts, on every node, for the person: their
 * approval by DM and their approval on their own peer are one approver, a
 * review of their own patch through the bridge is self-approval, and an
 * agent's request answered through the bridge is answered by them. The
 * principal comes from the verified chain only: a bridge naming someone in
 * its arguments, showing a delegation made to someone else, or holding a
 * delegation without the mark is credited as itself (or refused).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { OpLog } from "../../protocol/tasks/log.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { PATCH_OPS, type PatchOpKind } from "../../protocol/patch/ops.ts";
import { PATCH_FAMILY } from "../../protocol/patch/family.ts";
import type { PatchReducer } from "../../protocol/patch/reducer.ts";
import { approversOf } from "../../protocol/patch/state.ts";
import { APPROVAL_FAMILY, type ApprovalReducer } from "../../protocol/approvals/reducer.ts";
import { planHash } from "../../protocol/approvals/plan-hash.ts";
import { FAMILIES } from "../../protocol/space/families.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { delegate, type Delegation } from "../../protocol/ucan/delegation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { PAIRING_META, principalOf } from "../../protocol/ucan/principal.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { commitId } from "../helpers/patch-runs.ts";
import { signer } from "../helpers/principals.ts";

const T0 = 1_800_000_000_000;
const PATCH = "patch0001";
const PAIRED = { kind: "member", [PAIRING_META]: "proof-of-a-pairing-code" };

interface Member {
  signer: Signer;
  chain: Delegation[];
}

async function space() {
  const root = await signer();
  const authority = new SpaceAuthority({ space: root.did });
  const member = async (meta?: Record<string, Ipld>): Promise<Member> => {
    const s = await signer();
    const d = await delegate({
      issuer: root,
      audience: s.did,
      subject: root.did,
      command: Commands.all,
      expiration: null,
      ...(meta ? { meta } : {}),
    });
    await authority.addDelegation(d.bytes);
    return { signer: s, chain: [d] };
  };
  /** `from` delegates `command` to `to` (a bridge), with `meta` (the pairing mark, or none). */
  const grant = async (from: Member, to: Signer, command: string, meta?: Record<string, Ipld>): Promise<Member> => {
    const d = await delegate({
      issuer: from.signer,
      audience: to.did,
      subject: root.did,
      command,
      expiration: null,
      ...(meta ? { meta } : {}),
    });
    await authority.addDelegation(d.bytes);
    return { signer: to, chain: [...from.chain, d] };
  };
  let tick = 0;
  const sign = async (by: Member, command: string, args: Record<string, unknown>) => {
    const inv = await invoke({
      issuer: by.signer,
      subject: root.did,
      command,
      args: { ...args, at: [T0 + 1000 * ++tick, 0] } as Record<string, Ipld>,
      proofs: by.chain,
      expiration: null,
    });
    return inv;
  };
  const log = new OpLog(authority, new Diagnostics(), { now: () => T0 + 1_000_000, families: FAMILIES });
  const apply = async (by: Member, command: string, args: Record<string, unknown>) => {
    const inv = await sign(by, command, { ...args, after: log.heads() });
    return await log.ingest(inv.bytes, undefined, { verdict: true });
  };
  const patchOp = (by: Member, kind: PatchOpKind, args: Record<string, unknown>) =>
    apply(by, PATCH_OPS[kind].command, { patch: PATCH, ...args });
  return { root, member, grant, sign, log, apply, patchOp };
}

type Space = Awaited<ReturnType<typeof space>>;

/** A repository, and a patch proposed by `author`; resolves with its first revision's id. */
async function proposed(s: Space, maintainer: Member, author: Member): Promise<string> {
  const repo = await s.apply(maintainer, Commands.repoCreate, {
    repo: "weft",
    defaultBranch: "main",
    maintainers: [maintainer.signer.did],
  });
  assert.equal(repo.status, "applied", repo.reason);
  const propose = await s.patchOp(author, "propose", {
    repo: "weft",
    target: "refs/heads/main",
    base: commitId(1),
    head: commitId(2),
    title: "Fix the flaky test",
  });
  assert.equal(propose.status, "applied", propose.reason);
  return propose.cid;
}

const patchOf = (s: Space) => s.log.state<PatchReducer>(PATCH_FAMILY).patches.get(PATCH)!;

describe("operations performed for a person through a bridge they paired", () => {
  it("counts a person's approval by DM and on their own peer as one approver, on the person", async () => {
    const s = await space();
    const [maintainer, author, person] = [await s.member(), await s.member(), await s.member()];
    const bridge = await s.grant(person, await signer(), Commands.patchReview, PAIRED);
    const revision = await proposed(s, maintainer, author);
    const byDm = await s.patchOp(bridge, "review", { revision, verdict: "approve" });
    assert.equal(byDm.status, "applied", byDm.reason);
    assert.equal(s.log.principalOf(byDm.cid), person.signer.did);
    const own = await s.patchOp(person, "review", { revision, verdict: "approve" });
    assert.equal(own.status, "applied", own.reason);
    const patch = patchOf(s);
    assert.deepEqual(approversOf(patch, revision), [person.signer.did], "one person, one approver");
    assert.equal(patch.reviews[0].author, person.signer.did);
    assert.equal(patch.reviews[0].signer, bridge.signer.did, "who signed it is kept");
    assert.equal(patch.reviews[1].signer, undefined);
  });

  it("counts two people approving through the same bridge as two approvers", async () => {
    const s = await space();
    const [maintainer, author, ada, bob] = [await s.member(), await s.member(), await s.member(), await s.member()];
    const key = await signer();
    const viaAda = await s.grant(ada, key, Commands.patchReview, PAIRED);
    const viaBob = await s.grant(bob, key, Commands.patchReview, PAIRED);
    const revision = await proposed(s, maintainer, author);
    for (const via of [viaAda, viaBob]) {
      const r = await s.patchOp(via, "review", { revision, verdict: "approve" });
      assert.equal(r.status, "applied", r.reason);
    }
    assert.deepEqual(approversOf(patchOf(s), revision), [ada.signer.did, bob.signer.did].sort());
  });

  it("refuses a person's approval of their own patch sent through the bridge", async () => {
    const s = await space();
    const [maintainer, person] = [await s.member(), await s.member()];
    const bridge = await s.grant(person, await signer(), Commands.patchReview, PAIRED);
    const revision = await proposed(s, maintainer, person);
    const r = await s.patchOp(bridge, "review", { revision, verdict: "approve" });
    assert.equal(r.status, "refused");
    assert.match(r.reason!, /cannot approve or request changes on their own patch/);
    assert.deepEqual(patchOf(s).reviews, []);
  });

  it("answers an agent's request for the person, and refuses an agent answering its own through a bridge", async () => {
    const s = await space();
    const [person, agent] = [await s.member(), await s.member({ kind: "agent" })];
    const bridge = await s.grant(person, await signer(), Commands.approvalApprove, PAIRED);
    const plan = "run npm test with the network on";
    const ask = (id: string) =>
      s.apply(agent, Commands.approvalRequest, {
        request: id,
        kind: "network",
        program: "npm test",
        plan,
        hash: planHash(plan),
      });
    const asked = await ask("request01");
    assert.equal(asked.status, "applied", asked.reason);
    const answer = await s.apply(bridge, Commands.approvalApprove, {
      request: "request01",
      hash: planHash(plan),
      expires: T0 + 3_600_000,
    });
    assert.equal(answer.status, "applied", answer.reason);
    const request = s.log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.get("request01")!;
    assert.equal(request.answer?.by, person.signer.did);
    assert.equal(request.answer?.signer, bridge.signer.did);

    // An agent's own (unmarked-kind) delegation to a key, marked as acting for it: still the agent answering.
    const agentsKey = await s.grant(agent, await signer(), Commands.approvalApprove, { [PAIRING_META]: "x" });
    assert.equal((await ask("request02")).status, "applied");
    const own = await s.apply(agentsKey, Commands.approvalApprove, {
      request: "request02",
      hash: planHash(plan),
      expires: T0 + 3_600_000,
    });
    assert.equal(own.status, "refused");
    assert.match(own.reason!, /cannot answer its own request|acts under an agent's delegation/);
  });

  it("counts a comment signed by the bridge for the person (what an agent's loop reads as theirs)", async () => {
    const s = await space();
    const person = await s.member();
    const bridge = await s.grant(person, await signer(), Commands.taskComment, PAIRED);
    const created = await s.apply(person, Commands.taskCreate, { task: "task00000001", title: "tidy up" });
    assert.equal(created.status, "applied", created.reason);
    const said = await s.apply(bridge, Commands.taskComment, { task: "task00000001", body: "also sub.sh" });
    assert.equal(said.status, "applied", said.reason);
    const [comment] = s.log.reducer.tasks.get("task00000001")!.comments;
    assert.equal(comment.author, person.signer.did);
    assert.equal(comment.signer, bridge.signer.did);
  });

  describe("a bridge cannot claim a principal that did not delegate to it for that", () => {
    it("names someone in its arguments: refused at the boundary, nobody credited", async () => {
      const s = await space();
      const [maintainer, author, victim] = [await s.member(), await s.member(), await s.member()];
      const bridge = await s.member();
      const revision = await proposed(s, maintainer, author);
      for (const field of ["principal", "for", "author"]) {
        const r = await s.patchOp(bridge, "review", { revision, verdict: "approve", [field]: victim.signer.did });
        assert.equal(r.status, "refused", `a review naming ${field}`);
      }
      assert.deepEqual(patchOf(s).reviews, []);
    });

    it("shows a person's pairing delegation made to another bridge: refused, nothing counted", async () => {
      const s = await space();
      const [maintainer, author, victim] = [await s.member(), await s.member(), await s.member()];
      const honest = await s.grant(victim, await signer(), Commands.patchReview, PAIRED);
      const thief = await signer();
      const revision = await proposed(s, maintainer, author);
      const r = await s.patchOp({ signer: thief, chain: honest.chain }, "review", { revision, verdict: "approve" });
      assert.equal(r.status, "refused");
      assert.match(r.reason!, /last proof is to/);
      assert.deepEqual(patchOf(s).reviews, []);
    });

    it("holds a delegation from the person without the pairing mark: counted as the bridge itself", async () => {
      const s = await space();
      const [maintainer, author, person] = [await s.member(), await s.member(), await s.member()];
      const bridge = await s.grant(person, await signer(), Commands.patchReview);
      const revision = await proposed(s, maintainer, author);
      const r = await s.patchOp(bridge, "review", { revision, verdict: "approve" });
      assert.equal(r.status, "applied", r.reason);
      assert.deepEqual(approversOf(patchOf(s), revision), [bridge.signer.did]);
    });

    it("re-delegates a person's pairing to another key: that key counts for the bridge, not the person", async () => {
      const s = await space();
      const [maintainer, author, person] = [await s.member(), await s.member(), await s.member()];
      const bridge = await s.grant(person, await signer(), Commands.patchReview, PAIRED);
      const onward = await s.grant(bridge, await signer(), Commands.patchReview, PAIRED);
      const revision = await proposed(s, maintainer, author);
      const r = await s.patchOp(onward, "review", { revision, verdict: "approve" });
      assert.equal(r.status, "applied", r.reason);
      assert.deepEqual(approversOf(patchOf(s), revision), [bridge.signer.did]);
    });
  });

  it("principalOf reads only the last link, and only when it is to the invoker", () => {
    const link = (iss: string, aud: string, meta?: Record<string, Ipld>) => ({ iss, aud, ...(meta ? { meta } : {}) });
    assert.equal(principalOf("b", []), "b");
    assert.equal(principalOf("b", [link("root", "p"), link("p", "b", PAIRED)]), "p");
    assert.equal(principalOf("b", [link("root", "p"), link("p", "b")]), "b");
    assert.equal(principalOf("b", [link("root", "p", PAIRED), link("p", "b")]), "b");
    assert.equal(principalOf("b", [link("p", "x", PAIRED)]), "b", "a last link to someone else");
    assert.equal(principalOf("b", [link("p", "b", { [PAIRING_META]: 1 })]), "b", "the mark is a proof string");
  });
});
