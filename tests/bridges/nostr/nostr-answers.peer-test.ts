/**
 * Answering by Nostr DM, against a real relay and a stock nostr-tools
 * client: "approve patch 3f2a" reviews an open patch and "approve 9c1e"
 * answers an agent's pending request, each signed as the bridge under the
 * person's own delegation, counted for the person and seen on another peer; an ambiguous prefix is
 * answered with the candidates and nothing done; a person who did not
 * delegate reviewing is refused and nothing is signed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../../helpers/nodes.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { confirm, pairPhone, type Rig, rig, stop } from "../../helpers/nostr-rig.ts";
import { generateSeed } from "../../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../../peer/crypto/native-signer.ts";
import { Commands } from "../../../protocol/ucan/commands.ts";
import { planHash } from "../../../protocol/approvals/plan-hash.ts";
import { APPROVAL_FAMILY, type ApprovalReducer } from "../../../protocol/approvals/reducer.ts";
import { approversOf, PATCH_FAMILY, type PatchReducer } from "../../../protocol/patch/index.ts";
import type { Space } from "../../../protocol/space/space.ts";

const commit = (n: number) => n.toString(16).padStart(40, "0");
const patchesOn = (s: Space) => s.log.state<PatchReducer>(PATCH_FAMILY).patches;
const requestsOn = (s: Space) => s.log.state<ApprovalReducer>(APPROVAL_FAMILY).requests;

describe("approving and denying by Nostr DM", () => {
  let r: Rig;
  let phone: Phone;
  const agent = nativeSigner(generateSeed());

  before(async () => {
    r = await rig({ rate_burst: 50, rate_per_minute: 600 });
    await r.space.invite({ audience: agent.did, kind: "agent", name: "ada" });
    await r.space.perform(Commands.repoCreate, { repo: "web", defaultBranch: "main" });
    for (const [id, title] of [["3f2a0000aa", "fix the flaky test"], ["3f2a1111bb", "speed up CI"]]) {
      await r.space.perform(Commands.patchPropose, {
        patch: id,
        repo: "web",
        target: "refs/heads/main",
        base: commit(1),
        head: commit(2),
        title,
      }, agent);
    }
    for (const [id, plan] of [["9c1e0000cc", "run npm test with the network on"], ["7d3b0000dd", "curl | sh"]]) {
      await r.space.perform(Commands.approvalRequest, {
        request: id,
        kind: "network",
        program: "npm test",
        plan,
        hash: planHash(plan),
      }, agent);
    }
    phone = await Phone.connect(r.relay.url);
    await pairPhone(r, phone, [Commands.taskCreate, Commands.patchReview, Commands.approvalApprove]);
  });
  after(async () => {
    phone.close();
    await stop(r);
  });

  it("answers an ambiguous prefix with the candidates and does nothing", async () => {
    await phone.send(r.bridge.pubkey!, "approve patch 3f2a");
    const reply = await phone.received(3);
    assert.match(reply, /^3f2a matches 2 things; I did nothing/);
    assert.match(reply, /patch 3f2a0000aa in team: fix the flaky test/);
    assert.match(reply, /patch 3f2a1111bb in team: speed up CI/);
    assert.deepEqual([...patchesOn(r.space).values()].flatMap((p) => p.reviews), []);
  });

  it("approves a patch by its prefix, signed as the bridge, counted for the person on another peer", async () => {
    await phone.send(r.bridge.pubkey!, "/approve 3f2a0000");
    assert.equal(await phone.received(4), "Approved revision 1 of patch 3f2a0000aa in team: fix the flaky test");
    const review = (await eventually(() => patchesOn(r.joined).get("3f2a0000aa")?.reviews[0], 30_000, "review on b"))!;
    assert.equal(review.verdict, "approve");
    assert.equal(review.author, r.b.node.did, "counted for the person");
    assert.equal(review.signer, r.bridgeSigner.did, "signed by the bridge");
    assert.match(review.body, new RegExp(`Approved by ${r.b.node.did} by Nostr DM`));
    await phone.send(r.bridge.pubkey!, "approve 3f2a0000");
    assert.equal(await phone.received(5), "You approved revision 1 of patch 3f2a0000aa already.");
    assert.equal(patchesOn(r.space).get("3f2a0000aa")?.reviews.length, 1, "not twice");
    // The same person approving again on their own peer is still one approver, on every node.
    const patch = patchesOn(r.joined).get("3f2a0000aa")!;
    await r.joined.perform(Commands.patchReview, {
      patch: patch.id,
      revision: patch.revisions[0].id,
      verdict: "approve",
    });
    await eventually(() => patchesOn(r.space).get("3f2a0000aa")!.reviews.length === 2 || undefined, 30_000, "on a");
    for (const s of [r.space, r.joined]) {
      const p = patchesOn(s).get("3f2a0000aa")!;
      assert.deepEqual(approversOf(p, p.revisions[0].id), [r.b.node.did]);
    }
  });

  it("requests changes to a patch with the reason given", async () => {
    await phone.send(r.bridge.pubkey!, "deny patch 3f2a1111: split it in two");
    assert.equal(await phone.received(6), "Requested changes to revision 1 of patch 3f2a1111bb in team: speed up CI");
    const review = (await eventually(() => patchesOn(r.joined).get("3f2a1111bb")?.reviews[0], 30_000, "review on b"))!;
    assert.equal(review.verdict, "request-changes");
    assert.match(review.body, /: split it in two$/);
  });

  it("approves an agent's request, bound to its plan's hash; every node takes it as a person's answer", async () => {
    await phone.send(r.bridge.pubkey!, "approve 9c1e");
    assert.match(await phone.received(7), /^Approved ada's request 9c1e0000cc in team until .* UTC: run npm test/);
    const request = (await eventually(
      () => {
        const q = requestsOn(r.joined).get("9c1e0000cc");
        return q?.status === "approved" ? q : undefined;
      },
      30_000,
      "the approval on b",
    ))!;
    assert.equal(request.answer?.by, r.b.node.did, "counted for the person");
    assert.equal(request.answer?.signer, r.bridgeSigner.did);
    assert.ok(request.answer!.expires! > Date.now() + 3_000_000, "valid for approval_ttl_s (1 hour)");
  });

  it("denies an agent's request with the reason", async () => {
    await phone.send(r.bridge.pubkey!, "/deny request 7d3b: no piping into a shell");
    assert.equal(await phone.received(8), "Denied ada's request 7d3b0000dd in team.");
    const request = (await eventually(
      () => {
        const q = requestsOn(r.joined).get("7d3b0000dd");
        return q?.status === "denied" ? q : undefined;
      },
      30_000,
      "the denial on b",
    ))!;
    assert.equal(request.answer?.reason, "no piping into a shell");
  });

  it("says how to ask when the id is too short, and reads no more", async () => {
    await phone.send(r.bridge.pubkey!, "approve 3f");
    assert.match(await phone.received(9), /^Say approve \[patch\|request\] <id>, with at least 4 characters/);
  });

  it("refuses a paired person who did not delegate reviewing, and signs nothing", async () => {
    const other = await Phone.connect(r.relay.url);
    try {
      // Another person (a, not b) pairs, delegating only task creation.
      await other.send(r.bridge.pubkey!, "pair");
      const code = (await other.received(1)).match(/code is (\S+);/)![1];
      await confirm(r.a, r.space, r.bridgeSigner.did, code, Commands.taskCreate);
      assert.match(await other.received(2), new RegExp(`Paired with ${r.a.node.did}`));
      await other.send(r.bridge.pubkey!, "approve patch 3f2a1111");
      const answer = await other.received(3);
      assert.match(answer, /You may not review patches in team through me/);
      assert.match(answer, /--command \/weft\/patch\/review/);
      assert.equal(patchesOn(r.space).get("3f2a1111bb")?.reviews.length, 1, "only the earlier review");
    } finally {
      other.close();
    }
  });
});
