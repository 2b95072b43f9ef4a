/**
 * Byte-exactness with heartwood: from the test environment's fixed key
 * (seed 0xff×32, alias alice) and fixed time (GIT_COMMITTER_DATE
 * 1671125284), the bridge's writer reproduces the ids printed in
 * heartwood's CLI examples (rad-init.md's RID, rad-cob-log.md's identity
 * resource, rad-issue.md's issue and comment ids, rad-patch.md's patch,
 * revision and comment ids). Everything written
 * passes `git fsck --strict`, reads back verified, and forged changes are
 * refused: a signature that does not match the tree, and a change signed
 * by a key other than the author it names.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nobleSigner, nobleVerifier } from "#protocol/identity";
import { RadicleRepository } from "../../../bridges/radicle/repository.ts";
import { commentAction, evaluateIssue, ISSUE_TYPE, openActions } from "../../../bridges/radicle/issue-cob.ts";
import { encodeCommit, parseCommit } from "../../../bridges/radicle/commit-object.ts";
import { readChange, writeChange } from "../../../bridges/radicle/cob-change.ts";
import { canonicalBytes, canonicalJson } from "../../../bridges/radicle/canonical-json.ts";
import { armor, dearmor } from "../../../bridges/radicle/sshsig.ts";
import { encodeSignature, nidOf } from "../../../bridges/radicle/radicle-ids.ts";
import { fromHex } from "#protocol";
import {
  evaluatePatch,
  lineLocation,
  mergeAction,
  openPatchActions,
  PATCH_TYPE,
  patchLifecycleAction,
  relatedOf,
  reviewAction,
  reviewCommentAction,
  revisionAction,
  revisionCommentAction,
} from "../../../bridges/radicle/patch-cob.ts";
import type { GitRepo } from "../../../bridges/radicle/git-plumbing.ts";

const git = promisify(execFile);
const ALICE_SEED = new Uint8Array(32).fill(0xff);
const TIME = 1671125284;
const HEARTWOOD = { name: "heartwood", description: "Radicle Heartwood Protocol & Stack", defaultBranch: "master" };

async function aliceRepo() {
  const dir = await mkdtemp(join(tmpdir(), "weft-rad-"));
  const { repo, rid } = await RadicleRepository.init(dir, HEARTWOOD, {
    signer: nobleSigner(ALICE_SEED),
    verifier: nobleVerifier(),
    alias: "alice",
    now: () => TIME,
  });
  return { dir, repo, rid };
}

/**
 * heartwood's fixture repository (`test::fixtures::repository`: libgit2 commits by anonymous at
 * RADICLE_EPOCH, messages written verbatim) and rad-cob-log.md's `git commit` of an empty
 * REQUIREMENTS file (by radicle@localhost at the test time).
 */
async function fixtureCommits(g: GitRepo): Promise<{ second: string; third: string; fourth: string }> {
  const anon = "anonymous <anonymous@radicle.xyz> 1514817556 +0000";
  const initial = await g.write(
    "commit",
    `tree ${await g.mktree([])}\nauthor ${anon}\ncommitter ${anon}\n\nInitial commit`,
  );
  const readme = await g.write("blob", "Hello World!\n");
  const t2 = await g.mktree([{ mode: "100644", type: "blob", oid: readme, name: "README" }]);
  const second = await g.write(
    "commit",
    `tree ${t2}\nparent ${initial}\nauthor ${anon}\ncommitter ${anon}\n\nSecond commit`,
  );
  const empty = await g.write("blob", "");
  const t3 = await g.mktree([
    { mode: "100644", type: "blob", oid: readme, name: "README" },
    { mode: "100644", type: "blob", oid: empty, name: "REQUIREMENTS" },
  ]);
  const who = `radicle <radicle@localhost> ${TIME} +0000`;
  const third = await g.write(
    "commit",
    `tree ${t3}\nparent ${second}\nauthor ${who}\ncommitter ${who}\n\nDefine power requirements\n`,
  );
  // rad-patch.md's second commit on the patch branch: an empty README.md.
  const t4 = await g.mktree([
    { mode: "100644", type: "blob", oid: readme, name: "README" },
    { mode: "100644", type: "blob", oid: empty, name: "README.md" },
    { mode: "100644", type: "blob", oid: empty, name: "REQUIREMENTS" },
  ]);
  const fourth = await g.write(
    "commit",
    `tree ${t4}\nparent ${third}\nauthor ${who}\ncommitter ${who}\n\nAdd README, just for the fun\n`,
  );
  return { second, third, fourth };
}

describe("Radicle formats, byte-exact with heartwood", () => {
  it("reproduces the RID, identity, issue and comment ids of heartwood's CLI examples, and fsck passes", async () => {
    const { dir, repo, rid } = await aliceRepo();
    try {
      assert.equal(repo.nid, "z6MknSLrJoTcukLrE435hVNQT4JUhbvWLX4kUzqkEStBU8Vi"); // rad-issue.md's alice
      assert.equal(rid, "rad:z42hL2jL4XNk6K8oHQaSWfMgCL7ji"); // rad-init.md
      assert.equal(await repo.rid(), rid);
      assert.equal(await repo.identityHead(), "0656c217f917c3e06234771e9ecae53aba5e173e"); // rad-cob-log.md's resource
      const issue = await repo.create(
        ISSUE_TYPE,
        "Create issue",
        openActions("flux capacitor underpowered", "Flux capacitor power requirements exceed current supply"),
      );
      assert.equal(issue, "d87dcfe8c2b3200e78b128d9b959cfdf7063fefe"); // rad-issue.md
      const alice = `did:key:${repo.nid}`;
      await repo.update(ISSUE_TYPE, issue, "Assign", [{ type: "assign", assignees: [alice] }]);
      await repo.update(ISSUE_TYPE, issue, "Label", [{ type: "label", labels: ["good-first-issue"] }]);
      await repo.update(ISSUE_TYPE, issue, "Assign", [{ type: "assign", assignees: [] }]);
      const first = await repo.update(ISSUE_TYPE, issue, "Comment", [
        commentAction("The flux capacitor needs 1.21 Gigawatts", issue),
      ]);
      assert.equal(first, "2193e871916d18ddd0416b5198cb08c5dc7416b7");
      const reply = await repo.update(ISSUE_TYPE, issue, "Comment", [commentAction("More power!", first)]);
      assert.equal(reply, "880fdcd94b36e412fc906b510f41008700d65424");

      const loaded = await repo.load(ISSUE_TYPE, issue);
      assert.deepEqual(loaded.refused, []);
      const view = evaluateIssue(loaded.changes, await repo.delegates());
      assert.equal(view.title, "flux capacitor underpowered");
      assert.equal(view.description, "Flux capacitor power requirements exceed current supply");
      assert.deepEqual(view.labels, ["good-first-issue"]);
      assert.deepEqual(view.assignees, []);
      assert.deepEqual(view.comments.map((c) => [c.body, c.replyTo]), [
        ["The flux capacitor needs 1.21 Gigawatts", issue],
        ["More power!", first],
      ]);
      const signed = await repo.verifySigrefs(repo.nid);
      assert.equal(signed.get(`refs/cobs/${ISSUE_TYPE}/${issue}`), reply);
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reproduces rad-cob-log.md's patch (on the fixture repository's commits) and its later issue label", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const { second, third } = await fixtureCommits(repo.git);
      assert.equal(second, "f2de534b5e81d7c6e2dcaf58c3dd91573c0a0354"); // rad-init.md's head
      assert.equal(third, "3e674d1a1df90807e934f9ae5da2591dd6848a33"); // rad-cob-log.md's commit
      const issue = await repo.create(
        ISSUE_TYPE,
        "Create issue",
        openActions("flux capacitor underpowered", "Flux capacitor power requirements exceed current supply"),
      );
      const actions = openPatchActions("Define power requirements", "See details.", second, third);
      const patch = await repo.create(PATCH_TYPE, "Create patch", actions, relatedOf(actions));
      assert.equal(patch, "aa45913e757cacd46972733bddee5472c78fa32a");
      const label = await repo.update(ISSUE_TYPE, issue, "Label", [{ type: "label", labels: ["bug"] }]);
      assert.equal(label, "abec0a9f3c945594c4e78d24d8ec679e56b22b79");
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reproduces rad-patch.md's label, assign, new revision and comment ids, and reads them back", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const { second, third, fourth } = await fixtureCommits(repo.git);
      assert.equal(fourth, "27857ec9eb04c69cacab516e8bf4b5fd36090f66"); // rad-patch.md's new head
      const opened = openPatchActions("Define power requirements", "See details.", second, third);
      const patch = await repo.create(PATCH_TYPE, "Create patch", opened, relatedOf(opened));
      assert.equal(patch, "aa45913e757cacd46972733bddee5472c78fa32a");
      await repo.update(PATCH_TYPE, patch, "Label", [{ type: "label", labels: ["fun"] }]);
      await repo.update(PATCH_TYPE, patch, "Assign", [{ type: "assign", assignees: [`did:key:${repo.nid}`] }]);
      const update = revisionAction("Add README, just for the fun", second, fourth);
      const revision = await repo.update(PATCH_TYPE, patch, "Add revision", [update], { related: relatedOf([update]) });
      assert.equal(revision, "6e5a3b7b2ce27b32e7ccc2f0b3f4594897dde638"); // `git push rad` printed it
      // `rad patch comment aa45913` comments on the revision the patch id names: its first.
      const comment = await repo.update(PATCH_TYPE, patch, "Comment", [
        revisionCommentAction(patch, "I cannot wait to get back to the 90s!"),
      ]);
      assert.match(comment, /^686ec1c/);
      const reply = await repo.update(PATCH_TYPE, patch, "Comment", [
        revisionCommentAction(patch, "My favorite decade!", comment),
      ]);
      assert.equal(reply, "f4336e42daf76342f787d574b5ee779d89d05c7a");

      const view = evaluatePatch((await repo.load(PATCH_TYPE, patch)).changes, await repo.delegates());
      assert.deepEqual(view.revisions.map((r) => [r.id, r.base, r.oid]), [
        [patch, second, third],
        [revision, second, fourth],
      ]);
      assert.deepEqual(view.labels, ["fun"]);
      assert.deepEqual(view.comments.map((c) => [c.id, c.revision, c.replyTo]), [
        [comment, patch, undefined],
        [reply, patch, comment],
      ]);
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reproduces the draft, pushed patches and revisions of rad-patch-draft.md, rad-patch-via-push.md, rad-merge-via-push.md and rad-patch-change-base.md", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const { second, third, fourth } = await fixtureCommits(repo.git);
      // `git commit -a --allow-empty -m <message>` on the fixture's tree, by the test environment's committer.
      const who = `radicle <radicle@localhost> ${TIME} +0000`;
      const tree = parseCommit((await repo.git.run(["cat-file", "commit", second])).toString()).tree;
      const empty = (parent: string, message: string) =>
        repo.git.write("commit", `tree ${tree}\nparent ${parent}\nauthor ${who}\ncommitter ${who}\n\n${message}\n`);
      const open = async (title: string, description: string, head: string, base = second) => {
        const actions = openPatchActions(title, description, base, head);
        return await repo.create(PATCH_TYPE, "Create patch", actions, relatedOf(actions));
      };
      const revise = async (patch: string, description: string, base: string, head: string) => {
        const actions = [revisionAction(description, base, head)];
        return await repo.update(PATCH_TYPE, patch, "Add revision", actions, { related: relatedOf(actions) });
      };

      // rad-patch-draft.md: `git push -o patch.draft`: the root ends with a lifecycle action.
      const nothing = await empty(second, "Nothing to see here..");
      assert.equal(nothing, "2a465832b5a76abe25be44a3a5d224bbd7741ba7");
      const draftActions = [...openPatchActions("Nothing yet", "", second, nothing), patchLifecycleAction("draft")];
      const draft = await repo.create(PATCH_TYPE, "Create patch", draftActions, relatedOf(draftActions));
      assert.equal(draft, "97e18f8598237a396a1c0ac1509c89028e666c97");
      assert.equal(
        evaluatePatch((await repo.load(PATCH_TYPE, draft)).changes, await repo.delegates()).state.status,
        "draft",
      );

      // rad-patch-via-push.md: two patches; the second revised by a push (its commit's message) and a forced push (none).
      const things = await empty(second, "Add things");
      assert.equal(things, "42d894a83c9c356552a57af09ccdbd5587a99045");
      assert.equal(
        await open("Add things #1", "See commits for details.", things),
        "6035d2f582afbe01ff23ea87528ae523d76875b6",
      );
      const more = await empty(second, "Add more things");
      const patch = await open("Add more things", "", more);
      assert.equal(patch, "95808913573cead52ad7b42c7b475260ec45c4b2");
      const improved = await empty(more, "Improve code");
      assert.equal(improved, "02bef3fac41b2f98bb3c02b868a53ddfecb55b5f");
      assert.equal(await revise(patch, "Improve code", second, improved), "d7040c6c97629c2b94f86fb639bebbff5de39697");
      const amended = await empty(more, "Amended commit");
      assert.equal(amended, "9304dbc445925187994a7a93222a3f8bde73b785");
      assert.equal(await revise(patch, "", second, amended), "670d02794aa05afd6e0851f4aa848bc87c4712c7");

      // rad-merge-via-push.md (and rad-patch-revert-merge.md, rad-merge-no-ff.md): the patch "First change".
      const first = await empty(second, "First change");
      assert.equal(first, "20aa5dde6210796c3a2f04079b42316a31d02689");
      assert.equal(await open("First change", "", first), "696ec5508494692899337afe6713fe1796d0315c");

      // rad-patch-change-base.md: a patch on 27857ec, then `rad patch update -b 3e674d1`.
      const readme = await open("Add README, just for the fun", "", fourth);
      assert.equal(readme, "183d343ab47d7fe18baf1b24b7209ad033d7fe5c");
      assert.equal(
        await revise(readme, "Whoops, forgot to set the base", third, fourth),
        "ebe76f9c2148eb595d7a745f82275786bf3458c3",
      );
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes patch actions as heartwood's own serialization test (`cob::patch::test_json`) expects", () => {
    const revision = "0".repeat(39) + "1";
    assert.equal(canonicalJson(patchLifecycleAction("draft")), `{"state":{"status":"draft"},"type":"lifecycle"}`);
    assert.equal(canonicalJson(reviewAction(revision)), `{"revision":"${revision}","type":"review"}`);
    assert.equal(
      canonicalJson(
        revisionCommentAction(revision, "x", undefined, { commit: revision, path: "a", new: { start: 4, end: 8 } }),
      ),
      `{"body":"x","location":{"commit":"${revision}","new":{"range":{"end":8,"start":4},"type":"lines"},"old":null,` +
        `"path":"a"},"revision":"${revision}","type":"revision.comment"}`,
    );
  });

  it("evaluates a patch's revisions, reviews and merge; a stranger's merge is dropped", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const { second, third } = await fixtureCommits(repo.git);
      const open = openPatchActions("Define power requirements", "See details.", second, third);
      const patch = await repo.create(PATCH_TYPE, "Create patch", open, relatedOf(open));
      const update = [revisionAction("Now with tests", second, second)];
      const revision = await repo.update(PATCH_TYPE, patch, "Update patch", update, { related: relatedOf(update) });
      await repo.update(PATCH_TYPE, patch, "Review", [reviewAction(revision, "accept", "LGTM")]);
      // A stranger (not a delegate) records a merge in their own namespace: dropped.
      const mallory = RadicleRepository.open(dir, {
        signer: nobleSigner(new Uint8Array(32).fill(0x22)),
        verifier: nobleVerifier(),
        alias: "mallory",
        now: () => TIME + 1,
      });
      const stranger = [mergeAction(revision, second)];
      await mallory.update(PATCH_TYPE, patch, "Merge", stranger, { related: relatedOf(stranger) });
      let view = evaluatePatch((await repo.load(PATCH_TYPE, patch)).changes, await repo.delegates());
      assert.equal(view.state.status, "open");
      assert.match(view.dropped.map((d) => d.why).join(), /may not merge it/);
      assert.deepEqual(view.revisions.map((r) => r.id), [patch, revision]);
      assert.deepEqual(view.reviews.map((r) => [r.revision, r.verdict, r.summary]), [[revision, "accept", "LGTM"]]);
      // The delegate merges.
      const merge = [mergeAction(revision, second)];
      await repo.update(PATCH_TYPE, patch, "Merge", merge, {
        related: relatedOf(merge),
        dropped: view.dropped.map((d) => d.id),
      });
      view = evaluatePatch((await repo.load(PATCH_TYPE, patch)).changes, await repo.delegates());
      assert.deepEqual(view.state, { status: "merged", revision, commit: second });
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads and writes review comments anchored to code as heartwood serializes them", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const { second, third } = await fixtureCommits(repo.git);
      const open = openPatchActions("Define power requirements", "See details.", second, third);
      const patch = await repo.create(PATCH_TYPE, "Create patch", open, relatedOf(open));
      const review = await repo.update(PATCH_TYPE, patch, "Review", [reviewAction(patch, "reject", "Needs work")]);
      const at = lineLocation(third, "REQUIREMENTS", 1);
      const anchored = reviewCommentAction(review, "Say how many gigawatts", at);
      // Field for field as `Action::ReviewComment` with a `CodeLocation` of `CodeRange::Lines` serializes.
      assert.equal(
        canonicalJson(anchored),
        `{"body":"Say how many gigawatts","location":{"commit":"${third}","new":{"range":{"end":2,"start":1},` +
          `"type":"lines"},"old":null,"path":"REQUIREMENTS"},"review":"${review}","type":"review.comment"}`,
      );
      const first = await repo.update(PATCH_TYPE, patch, "Review comment", [anchored]);
      const reply = await repo.update(PATCH_TYPE, patch, "Review comment", [
        reviewCommentAction(review, "1.21", undefined, first),
      ]);
      // heartwood's `rad patch comment` with a character range on a revision.
      const onRevision = await repo.update(PATCH_TYPE, patch, "Comment", [{
        type: "revision.comment",
        revision: patch,
        body: "typo here",
        location: {
          commit: third,
          path: "REQUIREMENTS",
          old: null,
          new: { type: "chars", line: 3, range: { start: 2, end: 5 } },
        },
      }]);
      // A location that is no location drops its change, nothing else.
      const bad = await repo.update(PATCH_TYPE, patch, "Review comment", [{
        type: "review.comment",
        review,
        body: "x",
        location: { commit: third, path: "", old: null, new: null },
      }]);
      const view = evaluatePatch((await repo.load(PATCH_TYPE, patch)).changes, await repo.delegates());
      assert.deepEqual(view.reviews[0].comments, [
        { id: first, author: repo.nid, body: "Say how many gigawatts", location: at },
        { id: reply, author: repo.nid, body: "1.21", replyTo: first },
      ]);
      assert.deepEqual(view.comments.map((c) => [c.id, c.location]), [
        [onRevision, { commit: third, path: "REQUIREMENTS", new: { start: 3, end: 4 } }],
      ]);
      assert.deepEqual(view.dropped.map((d) => d.id), [bad]);
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes the delegates from the identity as its delegates decide, not from whoever writes a revision", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const mallorySigner = nobleSigner(new Uint8Array(32).fill(0x33));
      const mallory = RadicleRepository.open(dir, {
        signer: mallorySigner,
        verifier: nobleVerifier(),
        alias: "mallory",
      });
      const identity = (await repo.objects("xyz.radicle.id"))[0];
      const revise = async (who: RadicleRepository, signer: typeof mallorySigner, delegates: string[]) => {
        const doc = canonicalBytes({
          payload: { "xyz.radicle.project": { ...HEARTWOOD } },
          delegates: delegates.map((n) => `did:key:${n}`),
          threshold: 1,
        });
        const blob = await who.git.write("blob", doc);
        const signature = encodeSignature(await signer.sign(fromHex(blob)));
        const tip = await who.identityHead();
        const { id } = await writeChange(who.git, signer, {
          typeName: "xyz.radicle.id",
          tips: [tip],
          message: "Update identity",
          actions: [canonicalBytes({ type: "revision", title: "More delegates", blob, parent: tip, signature })],
          embeds: [{ name: "radicle.json", oid: blob }],
          author: { name: "x", email: `x@${nidOf(signer.publicKey)}` },
          time: TIME,
        });
        await who.git.updateRef(
          `refs/namespaces/${who.nid}/refs/cobs/xyz.radicle.id/${identity}`,
          id,
          await who.git.resolve(`refs/namespaces/${who.nid}/refs/cobs/xyz.radicle.id/${identity}`),
        );
        return id;
      };
      // mallory names herself a delegate: nothing changes, she is none of the delegates who decide.
      await revise(mallory, mallorySigner, [repo.nid, mallory.nid]);
      assert.deepEqual([...await repo.delegates()], [repo.nid]);
      // alice (the one delegate, threshold 1) adds bob: adopted, and the head moves to her revision.
      const bob = nidOf(nobleSigner(new Uint8Array(32).fill(0x44)).publicKey);
      const head = await revise(repo, nobleSigner(ALICE_SEED), [repo.nid, bob]);
      assert.deepEqual([...await repo.delegates()].sort(), [repo.nid, bob].sort());
      assert.equal(await repo.identityHead(), head);
      assert.equal(await repo.rid(), "rad:z42hL2jL4XNk6K8oHQaSWfMgCL7ji", "the RID stays the root document's");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a change whose signature is not over its tree, or whose signer is not its author", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const issue = await repo.create(ISSUE_TYPE, "Create issue", openActions("title", "body"));
      const good = parseCommit((await repo.git.run(["cat-file", "commit", issue])).toString());
      // The same signature over another tree: what a tampered action looks like.
      const otherTree = await repo.git.mktree([{
        mode: "100644",
        type: "blob",
        oid: await repo.git.write("blob", canonicalBytes({ type: "edit", title: "forged" })),
        name: "0",
      }, ...(await repo.git.readTree(good.tree)).filter((e) => e.name === "manifest")]);
      const tampered = await repo.git.write("commit", encodeCommit({ ...good, tree: otherTree }));
      await assert.rejects(readChange(repo.git, nobleVerifier(), tampered), {
        code: "radicle/forged",
        message: /does not verify/,
      });

      // Signed by mallory, while its author line names alice.
      const mallory = nobleSigner(new Uint8Array(32).fill(0x11));
      const { id: impostor } = await writeChange(repo.git, mallory, {
        typeName: ISSUE_TYPE,
        tips: [issue],
        resource: await repo.identityHead(),
        message: "Edit",
        actions: [canonicalBytes({ type: "edit", title: "stolen" })],
        author: { name: "alice", email: `alice@${repo.nid}` },
        time: TIME,
      });
      await assert.rejects(readChange(repo.git, nobleVerifier(), impostor), {
        code: "radicle/forged",
        message: /signed by/,
      });

      // As the tip of alice's namespace, neither is imported: the issue keeps its title.
      for (const forged of [tampered, impostor]) {
        const ref = `refs/namespaces/${repo.nid}/refs/cobs/${ISSUE_TYPE}/${issue}`;
        await repo.git.updateRef(ref, forged, await repo.git.resolve(ref));
        const loaded = await repo.load(ISSUE_TYPE, issue);
        assert.equal(loaded.refused.length, 1);
        assert.equal(loaded.refused[0].id, forged);
        if (loaded.changes.length) assert.equal(evaluateIssue(loaded.changes, await repo.delegates()).title, "title");
      }
      // A change signed by mallory as mallory, made tip of alice's namespace, is refused too.
      const { id: honestMallory } = await writeChange(repo.git, mallory, {
        typeName: ISSUE_TYPE,
        tips: [issue],
        resource: await repo.identityHead(),
        message: "Edit",
        actions: [canonicalBytes({ type: "edit", title: "retitled by a stranger" })],
        author: { name: "mallory", email: `mallory@${nidOf(mallory.publicKey)}` },
        time: TIME,
      });
      await repo.git.updateRef(
        `refs/namespaces/${nidOf(mallory.publicKey)}/refs/cobs/${ISSUE_TYPE}/${issue}`,
        honestMallory,
        undefined,
      );
      const loaded = await repo.load(ISSUE_TYPE, issue);
      const view = evaluateIssue(loaded.changes, await repo.delegates());
      assert.equal(view.title, "title", "a stranger's retitle is dropped: only the author or a delegate may");
      assert.match(view.dropped.map((d) => d.why).join(), /may not retitle/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reproduces rad-inspect.md's sigrefs commit: the namespace as `rad init` leaves it, signed once", async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const { second } = await fixtureCommits(repo.git);
      // `rad init` signs once, after pushing master; this writer signed as soon as the identity existed, so that
      // first list goes and the namespace is signed as rad init leaves it: identity COB, master, rad/id, rad/root.
      const ns = `refs/namespaces/${repo.nid}`;
      await repo.git.run(["update-ref", "-d", `${ns}/refs/rad/sigrefs`]);
      await repo.git.updateRef(`${ns}/refs/heads/master`, second, undefined);
      await repo.signRefs();
      const sigrefs = await repo.git.resolve(`${ns}/refs/rad/sigrefs`);
      // heartwood at the mirrored master (rad-inspect.md: `rad inspect --sigrefs`).
      assert.equal(sigrefs, "99c549702e2bcfe02b0e68d4a2224fb7a1524529");
      assert.deepEqual([...(await repo.verifySigrefs(repo.nid)).keys()].sort(), [
        "refs/cobs/xyz.radicle.id/0656c217f917c3e06234771e9ecae53aba5e173e",
        "refs/heads/master",
        "refs/rad/id",
        "refs/rad/root",
      ]);
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('signs its refs at heartwood\'s feature level "parent", and refuses a grafted or replayed list', async () => {
    const { dir, repo } = await aliceRepo();
    try {
      const first = (await repo.git.resolve(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`))!;
      // rad-inspect.md's identity root: what refs/rad/root names (its embedded document's blob is the RID).
      assert.equal(
        (await repo.verifySigrefs(repo.nid)).get("refs/rad/root"),
        "0656c217f917c3e06234771e9ecae53aba5e173e",
      );
      const issue = await repo.create(ISSUE_TYPE, "Create issue", openActions("a", "b"));
      const second = (await repo.git.resolve(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`))!;
      const listed = (await repo.git.text(["cat-file", "blob", `${second}:refs`])).split("\n");
      assert.ok(listed.includes(`${first} refs/rad/sigrefs-parent`), "the list names the commit it follows");
      assert.match(await repo.git.text(["cat-file", "commit", second]), new RegExp(`committer radicle <${repo.nid}> `));
      const signed = await repo.verifySigrefs(repo.nid);
      assert.equal(signed.get(`refs/cobs/${ISSUE_TYPE}/${issue}`), issue);
      assert.equal(signed.has("refs/rad/sigrefs-parent"), false);
      await repo.signRefs(); // nothing changed: nothing written
      assert.equal(await repo.git.resolve(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`), second);

      // Replayed: an older list, validly signed, committed again on top of the latest.
      await repo.update(ISSUE_TYPE, issue, "Label", [{ type: "label", labels: ["bug"] }]);
      const third = (await repo.git.resolve(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`))!;
      const replayOf = async (old: string, onto: string) => {
        const person = { name: "radicle", email: repo.nid, time: TIME, offset: 0 };
        const tree = (await repo.git.text(["rev-parse", `${old}^{tree}`])).trim();
        const c = await repo.git.write(
          "commit",
          encodeCommit({
            tree,
            parents: [onto],
            author: person,
            committer: person,
            headers: [],
            message: "x",
            trailers: [],
          }),
        );
        await repo.git.updateRef(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`, c, onto);
        return c;
      };
      const replay = await replayOf(second, third); // names `first` as its parent, sits on `third`
      await assert.rejects(repo.verifySigrefs(repo.nid), /replays an older list \(its sigrefs-parent/);
      await repo.git.updateRef(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`, third, replay);
      const downgrade = await replayOf(first, third); // the first list had no parent entry to check
      await assert.rejects(repo.verifySigrefs(repo.nid), /drops its sigrefs-parent/);
      // A list whose sigrefs-parent is right but the signature is not over it: refused too.
      await assert.rejects(
        (async () => {
          const refs = await repo.git.write("blob", `${second} refs/rad/sigrefs-parent\n`);
          const sig = (await repo.git.text(["rev-parse", `${second}:signature`])).trim();
          const tree = await repo.git.mktree([
            { mode: "100644", type: "blob", oid: refs, name: "refs" },
            { mode: "100644", type: "blob", oid: sig, name: "signature" },
          ]);
          const forged = await repo.git.write(
            "commit",
            `tree ${tree}\nparent ${second}\nauthor radicle <${repo.nid}> ${TIME} +0000\ncommitter radicle <${repo.nid}> ${TIME} +0000\n\nUpdate signed refs\n`,
          );
          await repo.git.updateRef(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`, forged, downgrade);
          await repo.verifySigrefs(repo.nid);
        })(),
        /signature does not verify/,
      );

      // Grafted: a list alice really signed, but for another repository (its refs/rad/root), is refused here.
      const list = `${"1".repeat(40)} refs/rad/root\n`;
      const tree = await repo.git.mktree([
        { mode: "100644", type: "blob", oid: await repo.git.write("blob", list), name: "refs" },
        {
          mode: "100644",
          type: "blob",
          oid: await repo.git.write("blob", await nobleSigner(ALICE_SEED).sign(new TextEncoder().encode(list))),
          name: "signature",
        },
      ]);
      const grafted = await repo.git.write(
        "commit",
        `tree ${tree}\nauthor radicle <${repo.nid}> ${TIME} +0000\ncommitter radicle <${repo.nid}> ${TIME} +0000\n\nUpdate signed refs\n`,
      );
      await repo.git.updateRef(
        `refs/namespaces/${repo.nid}/refs/rad/sigrefs`,
        grafted,
        await repo.git.resolve(`refs/namespaces/${repo.nid}/refs/rad/sigrefs`),
      );
      await assert.rejects(repo.verifySigrefs(repo.nid), /signed for another repository/);
      await git("git", ["--git-dir", dir, "fsck", "--strict", "--no-dangling"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes canonical JSON and SSHSIG armour as heartwood does", () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null], "é": "e\u0301\n" }), '{"a":[true,null],"b":1,"é":"é\\n"}');
    assert.throws(() => canonicalJson({ x: 1.5 }), { code: "radicle/malformed" });
    const signer = nobleSigner(ALICE_SEED);
    const pem = armor({ publicKey: signer.publicKey, signature: new Uint8Array(64).fill(7) });
    assert.deepEqual(dearmor(pem).signature, new Uint8Array(64).fill(7));
    assert.throws(() => dearmor(pem.replace("-----END SSH SIGNATURE-----", "")), { code: "radicle/malformed" });
  });
});
