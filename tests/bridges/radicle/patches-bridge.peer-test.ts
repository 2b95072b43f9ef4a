/**
 * The Radicle bridge's patches, in a real peer process against a real bare
 * repository in heartwood's layout and a real Weft repository (pushed with
 * plain git through git-remote-weft): alice, on Radicle, opens a patch,
 * revises it, reviews Ada's and reopens it; Ada, on Weft, proposes,
 * reviews with a comment on a line, revises, closes and merges through the
 * `weft` CLI. Each appears on the other side as the bridge, commits
 * included (the Weft repository gets alice's under refs/heads/radicle/…,
 * the storage Ada's), and nothing echoes. A Radicle review never counts as
 * a Weft approval. fsck --strict passes on both repositories; the bridge's
 * sigrefs verify.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateSeed, loadOrCreate, nobleSigner, nobleVerifier } from "#protocol/identity";
import type { Patch as WeftPatch } from "#protocol/patch";
import { fileKeystore } from "../../../peer/keystore/file-keystore.ts";
import { RadicleRepository } from "../../../bridges/radicle/repository.ts";
import {
  evaluatePatch,
  lineLocation,
  openPatchActions,
  type Patch as RadPatch,
  PATCH_TYPE,
  patchLifecycleAction,
  relatedOf,
  reviewAction,
  reviewCommentAction,
  revisionAction,
} from "../../../bridges/radicle/patch-cob.ts";
import { nidOfDid } from "../../../bridges/radicle/radicle-ids.ts";
import { eventually } from "../../helpers/nodes.ts";
import { startPeer, stopPeer, weft } from "../../helpers/peer-process.ts";
import { helperBin, weftGit } from "../../helpers/weft-git.ts";

const run = promisify(execFile);
const WAIT = 60_000;

describe("the Radicle bridge: Weft patches ↔ Radicle patches in a real peer and real repositories", () => {
  it(
    "carries patches, revisions, reviews, closing and merges both ways, with no echo",
    { timeout: 300_000 },
    async () => {
      const home = await mkdtemp(join(tmpdir(), "weft-radpatch-"));
      const scratch = await mkdtemp(join(tmpdir(), "weft-radpatch-work-"));
      const repoDir = join(scratch, "storage.git");
      const work = join(scratch, "work");
      const { signer: bridgeKey } = await loadOrCreate(fileKeystore({ dir: join(home, "keys") }), "bridge-radicle");
      const alice = await RadicleRepository.init(
        repoDir,
        { name: "flux", description: "Flux capacitor", defaultBranch: "main", delegates: [bridgeKey.did] },
        { signer: nobleSigner(generateSeed()), verifier: nobleVerifier(), alias: "alice" },
      );
      const repo = alice.repo;
      const bridgeNid = nidOfDid(bridgeKey.did);
      await writeFile(
        join(home, "weft.toml"),
        `[bridges.radicle]\nrepository = "${repoDir}"\nrepo = "demo"\npoll_ms = 200\n`,
      );
      const peer = await startPeer({ WEFT_LOG_LEVEL: "info" }, home);
      const cli = async (...args: string[]) => JSON.parse(await weft(peer, ...args, "--json"));
      const api = await peer.api();
      let space = "";
      const git = weftGit(home, await helperBin(scratch), work);
      const weftPatch = (id: string) =>
        api.get<WeftPatch>(`/v1/spaces/${encodeURIComponent(space)}/patches/${id}`).catch(() => undefined);
      const weftRepo = () =>
        api.get<{ refs: Record<string, string>; local: Record<string, string> }>(
          `/v1/spaces/${encodeURIComponent(space)}/repos/demo`,
        );
      const radPatch = async (id: string): Promise<RadPatch> =>
        evaluatePatch((await repo.load(PATCH_TYPE, id)).changes, await repo.delegates());
      const radPatches = async () => Promise.all((await repo.objects(PATCH_TYPE)).map(radPatch));
      /** A commit adding `file` on top of `from` (none: the first commit). */
      const commit = async (file: string, from?: string) => {
        if (from) await git("checkout", "-q", "-B", `on-${file}`, from);
        await writeFile(join(work, file), `${file}\n`);
        await git("add", file);
        await git("commit", "-q", "-m", `add ${file}`);
        return await git("rev-parse", "HEAD");
      };
      /** Commits alice has: in the storage, as her `git push rad` would leave them. */
      const toStorage = (oid: string) => run("git", ["--git-dir", repoDir, "fetch", "-q", work, oid]);
      try {
        space = (await cli("space", "list")).spaces[0].id;
        await cli("repo", "create", "demo");
        await api.patchOp(space, "policy", { repo: "demo", checks: [] });
        await run("git", ["init", "-q", "-b", "main", work]);
        const url = `weft::${space}/demo`;
        const main = await commit("base.txt");
        await git("push", "-q", url, `${main}:refs/heads/main`);
        await toStorage(main);
        await repo.setRef("refs/heads/main", main);
        await cli("bridge", "grant", "radicle", "--space", space);

        // Radicle → Weft: alice's patch becomes a Weft patch with its id; its head reaches the Weft repository.
        const a1 = await commit("a.txt", main);
        await toStorage(a1);
        const opened = openPatchActions("Add a", "The letter a", main, a1);
        const fromAlice = await repo.create(PATCH_TYPE, "Create patch", opened, relatedOf(opened));
        await repo.setRef(`refs/heads/patches/${fromAlice}`, a1);
        const imported = await eventually(() => weftPatch(fromAlice), WAIT, "alice's patch on Weft");
        assert.equal(imported!.title, "Add a");
        assert.equal(imported!.author, bridgeKey.did);
        assert.deepEqual(imported!.revisions.map((r) => [r.base, r.head, r.description]), [[main, a1, "The letter a"]]);
        await eventually(
          async () => (await weftRepo()).local[`refs/heads/radicle/${fromAlice}`] === a1,
          WAIT,
          "alice's commit in the peer's copy of the Weft repository",
        );

        // Weft → Radicle: Ada proposes; a Radicle patch by the bridge, its commits in the storage.
        const b1 = await commit("b.txt", main);
        await git("push", "-q", url, `${b1}:refs/heads/ada`);
        const proposed = await cli("patch", "propose", "Add b", "--repo", "demo", "--head", b1, "--base", main);
        const exported = await eventually(
          async () => (await radPatches()).find((p) => p.title === "Add b"),
          WAIT,
          "Ada's patch on Radicle",
        );
        assert.equal(exported!.author, bridgeNid);
        assert.deepEqual(exported!.revisions.map((r) => [r.base, r.oid]), [[main, b1]]);
        const fromAda = exported!.id;
        await eventually(
          async () => (await repo.git.resolve(`refs/namespaces/${bridgeNid}/refs/heads/patches/${fromAda}`)) === b1,
          WAIT,
          "the bridge's patch branch naming the head",
        );

        // mallory's Radicle patch claims to be Ada's (a bridge's marker in her root) and is archived: it is a patch of
        // its own on Weft, and Ada's stays open.
        const mallory = RadicleRepository.open(repoDir, {
          signer: nobleSigner(generateSeed()),
          verifier: nobleVerifier(),
          alias: "mallory",
        });
        const claim = openPatchActions("Add b", "mine now", main, a1);
        const claimed = await mallory.create(
          PATCH_TYPE,
          `Create patch\n\nWeft-Patch: ${proposed.id}`,
          claim,
          relatedOf(claim),
        );
        await eventually(() => weftPatch(claimed), WAIT, "mallory's patch on Weft, under its own id");
        await mallory.update(PATCH_TYPE, claimed, "Lifecycle", [patchLifecycleAction("archived")]);
        await eventually(async () => (await weftPatch(claimed))?.status === "closed", WAIT, "mallory's patch closed");
        assert.equal((await weftPatch(proposed.id))!.status, "open", "mallory's archive did not close Ada's patch");

        // Ada approves alice's patch with a comment on a line: a Radicle review (accept) and a review comment there.
        await cli(
          "patch",
          "review",
          fromAlice,
          "--approve",
          "--body",
          "Lovely",
          "--line",
          "a.txt:1:one letter is enough",
        );
        const reviewed = await eventually(
          async () => {
            const p = await radPatch(fromAlice);
            return p.reviews.find((r) => r.author === bridgeNid && r.comments.length === 1) ? p : undefined;
          },
          WAIT,
          "Ada's review on Radicle",
        );
        const review = reviewed!.reviews.find((r) => r.author === bridgeNid)!;
        assert.equal(review.verdict, "accept");
        assert.equal(review.summary, "Lovely");
        assert.deepEqual(review.comments.map((x) => [x.body, x.location]), [
          ["one letter is enough", lineLocation(a1, "a.txt", 1)],
        ]);

        // alice rejects Ada's patch on Radicle, with a comment on a line: a Weft review that only comments.
        const aliceReview = await repo.update(PATCH_TYPE, fromAda, "Review", [
          reviewAction(fromAda, "reject", "Needs a test"),
        ]);
        await repo.update(PATCH_TYPE, fromAda, "Review comment", [
          reviewCommentAction(aliceReview, "why b?", lineLocation(b1, "b.txt", 1)),
        ]);
        const onWeft = await eventually(
          async () => {
            const p = await weftPatch(proposed.id);
            return p?.reviews.some((r) => r.comments.length === 1) ? p : undefined;
          },
          WAIT,
          "alice's review on Weft",
        );
        // The review and its comment are two Radicle changes: one Weft review, or two if a pass fell between them.
        const carried = onWeft!.reviews;
        assert.ok(carried.every((r) => r.author === bridgeKey.did && r.verdict === "comment"), "no Weft verdict");
        assert.equal(carried[0].body, `Radicle review by ${repo.nid}: reject\n\nNeeds a test`);
        assert.deepEqual(carried.flatMap((r) => r.comments), [{ path: "b.txt", line: 1, body: "why b?" }]);
        const shown = await cli("patch", "show", proposed.id);
        assert.deepEqual(shown.readiness.approvals.have, [], "alice's Radicle review approves nothing on Weft");

        // Revisions both ways: alice pushes a second revision; Ada revises hers.
        const a2 = await commit("a2.txt", a1);
        await toStorage(a2);
        const second = [revisionAction("With a second a", main, a2)];
        const aliceRevision = await repo.update(PATCH_TYPE, fromAlice, "Add revision", second, {
          related: relatedOf(second),
        });
        const revised = await eventually(
          async () => {
            const p = await weftPatch(fromAlice);
            return p?.revisions.length === 2 ? p : undefined;
          },
          WAIT,
          "alice's second revision on Weft",
        );
        assert.deepEqual(revised!.revisions.map((r) => r.head), [a1, a2]);
        const b2 = await commit("b2.txt", b1);
        await git("push", "-q", url, `${b2}:refs/heads/ada`);
        await cli("patch", "revise", proposed.id, "--head", b2, "--description", "now with b2");
        const radRevised = await eventually(
          async () => {
            const p = await radPatch(fromAda);
            return p.revisions.length === 2 ? p : undefined;
          },
          WAIT,
          "Ada's second revision on Radicle",
        );
        assert.deepEqual(radRevised!.revisions[1], {
          ...radRevised!.revisions[1],
          author: bridgeNid,
          base: main,
          oid: b2,
          description: "now with b2",
        });

        // Ada closes her patch: archived on Radicle. alice (a delegate) reopens it there: open again on Weft.
        await cli("patch", "close", proposed.id);
        await eventually(
          async () => (await radPatch(fromAda)).state.status === "archived",
          WAIT,
          "archived on Radicle",
        );
        await repo.update(PATCH_TYPE, fromAda, "Lifecycle", [{ type: "lifecycle", state: { status: "open" } }]);
        await eventually(async () => (await weftPatch(proposed.id))?.status === "open", WAIT, "reopened on Weft");

        // Ada merges alice's patch on Weft: a merge by the bridge (a delegate) on Radicle, its branch moved.
        await cli("patch", "merge", fromAlice);
        const merged = await eventually(
          async () => {
            const p = await radPatch(fromAlice);
            return p.state.status === "merged" ? p : undefined;
          },
          WAIT,
          "the merge on Radicle",
        );
        assert.deepEqual(merged!.state, { status: "merged", revision: aliceRevision, commit: a2 });
        await eventually(
          async () => (await repo.git.resolve(`refs/namespaces/${bridgeNid}/refs/heads/main`)) === a2,
          WAIT,
          "the bridge's main at the merged commit",
        );

        // No echo: more passes (another patch makes them) write nothing more on either side.
        const count = async () => ({
          radicle: [
            (await repo.load(PATCH_TYPE, fromAlice)).changes.length,
            (await repo.load(PATCH_TYPE, fromAda)).changes.length,
          ],
          weft: [(await weftPatch(fromAlice))!.history.length, (await weftPatch(proposed.id))!.history.length],
        });
        const before = await count();
        // A later patch, reviewed: its review is written when the pass reconciles it, after every earlier patch.
        const c1 = await commit("c.txt", main);
        await git("push", "-q", url, `${c1}:refs/heads/later`);
        const later = await cli("patch", "propose", "Add c", "--repo", "demo", "--head", c1, "--base", main);
        const laterOnRadicle = await eventually(
          async () => (await radPatches()).find((p) => p.title === "Add c"),
          WAIT,
          "the later patch on Radicle",
        );
        await cli("patch", "review", later.id, "--comment", "--body", "after the fact");
        await eventually(
          async () => (await radPatch(laterOnRadicle!.id)).reviews.length === 1,
          WAIT,
          "the later review on Radicle (a full pass ran)",
        );
        assert.deepEqual(await count(), before, "nothing echoed");
        assert.doesNotMatch(peer.out, /could not carry a patch over|sync pass failed|refused a Radicle change/);

        await run("git", ["--git-dir", repoDir, "fsck", "--strict", "--no-dangling"]);
        const copy = join(home, "repos", space.replace(/[^A-Za-z0-9]/g, "_"), "demo.git");
        await run("git", ["--git-dir", copy, "fsck", "--strict", "--no-dangling"]);
        const signed = await repo.verifySigrefs(bridgeNid);
        assert.equal(signed.get(`refs/heads/patches/${fromAda}`), b2);
        assert.equal(signed.get("refs/heads/main"), a2);
      } finally {
        await stopPeer(peer);
        await rm(scratch, { recursive: true, force: true });
      }
    },
  );
});
