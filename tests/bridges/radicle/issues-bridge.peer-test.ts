/**
 * The Radicle bridge in a real peer process against a real bare repository
 * in heartwood's layout: alice (a Radicle user, writing as her own node id
 * in her own namespace) opens, comments on and closes an issue; a Weft user
 * adds, edits and comments on tasks through the `weft` CLI. Each change
 * appears on the other side, signed there by the bridge (its DID on Weft,
 * the same key as a node id on Radicle), and nothing echoes: after another
 * full pass, both sides hold exactly what was written once. fsck --strict
 * passes on the repository, and the bridge's sigrefs verify. A forged
 * change (signed by one key, naming another as its author) is refused on
 * import and never reaches the task.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSeed, loadOrCreate, nobleSigner, nobleVerifier } from "#protocol/identity";
import { fileKeystore } from "../../../peer/keystore/file-keystore.ts";
import { RadicleRepository } from "../../../bridges/radicle/repository.ts";
import {
  commentAction,
  editAction,
  evaluateIssue,
  type Issue,
  ISSUE_TYPE,
  lifecycleAction,
  openActions,
} from "../../../bridges/radicle/issue-cob.ts";
import { nidOf, nidOfDid } from "../../../bridges/radicle/radicle-ids.ts";
import { writeChange } from "../../../bridges/radicle/cob-change.ts";
import { canonicalBytes } from "../../../bridges/radicle/canonical-json.ts";
import { eventually } from "../../helpers/nodes.ts";
import { startPeer, stopPeer, weft } from "../../helpers/peer-process.ts";

const git = promisify(execFile);

interface TaskJson {
  id: string;
  title: string;
  body: string;
  labels: string[];
  status: string;
  comments: { id: string; author: string; body: string }[];
  history: unknown[];
}

describe("the Radicle bridge: tasks ↔ issues in a real peer and a real repository", () => {
  it("carries issues, comments, edits and closing both ways, with no echo", { timeout: 180_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), "weft-radbridge-"));
    const storage = await mkdtemp(join(tmpdir(), "weft-radstore-"));
    const repoDir = join(storage, "repo.git");
    // The bridge's key, made as the daemon makes it, so alice can name its node id a delegate.
    const { signer: bridgeKey } = await loadOrCreate(fileKeystore({ dir: join(home, "keys") }), "bridge-radicle");
    const alice = await RadicleRepository.init(
      repoDir,
      { name: "flux", description: "Flux capacitor", defaultBranch: "main", delegates: [bridgeKey.did] },
      { signer: nobleSigner(generateSeed()), verifier: nobleVerifier(), alias: "alice" },
    );
    const repo = alice.repo;
    await writeFile(join(home, "weft.toml"), `[bridges.radicle]\nrepository = "${repoDir}"\npoll_ms = 200\n`);
    const peer = await startPeer({ WEFT_LOG_LEVEL: "info" }, home);
    const cli = async (...args: string[]) => JSON.parse(await weft(peer, ...args, "--json"));
    const issue = async (id: string): Promise<Issue> =>
      evaluateIssue((await repo.load(ISSUE_TYPE, id)).changes, await repo.delegates());
    const api = await peer.api();
    let space = "";
    /** Observed through the peer's API (the CLI is for what a person does). */
    const task = (id: string) =>
      api.get<TaskJson>(`/v1/spaces/${encodeURIComponent(space)}/tasks/${id}`).catch(() => undefined);
    try {
      const listed = await cli("bridge", "list");
      assert.equal(listed.bridges[0].did, bridgeKey.did, "the bridge runs under the key alice named");
      const { spaces } = await cli("space", "list");
      space = spaces[0].id;
      // Before the bridge may act: an issue alice already closed, and a task already cancelled.
      const fixed = await repo.create(ISSUE_TYPE, "Create issue", openActions("already fixed", "It was the fuse"));
      await repo.update(ISSUE_TYPE, fixed, "Lifecycle", [lifecycleAction({ status: "closed", reason: "solved" })]);
      const abandoned = await cli("task", "add", "abandoned idea");
      await cli("task", "cancel", abandoned.id);
      await cli("bridge", "grant", "radicle", "--space", space);
      const bridgeNid = nidOfDid(bridgeKey.did);

      // Radicle → Weft: alice opens an issue; a task with the issue's id appears.
      const opened = await repo.create(
        ISSUE_TYPE,
        "Create issue",
        openActions("flux capacitor underpowered", "Needs 1.21 GW", ["bug"]),
      );
      const fromIssue = await eventually(() => task(opened), 30_000, "the issue's task");
      assert.equal(fromIssue!.title, "flux capacitor underpowered");
      assert.equal(fromIssue!.body, "Needs 1.21 GW");
      assert.deepEqual(fromIssue!.labels, ["bug"]);

      // What was finished before is finished on the other side: a closed issue's task is done, a cancelled task's issue closed.
      const fixedTask = await eventually(
        async () => {
          const t = await task(fixed);
          return t?.status === "done" ? t : undefined;
        },
        30_000,
        "the closed issue's task, done",
      );
      assert.equal(fixedTask!.title, "already fixed");
      const abandonedIssue = await eventually(
        async () => {
          for (const id of await repo.objects(ISSUE_TYPE)) {
            const i = await issue(id);
            if (i.title === "abandoned idea" && i.state.status === "closed") return i;
          }
        },
        30_000,
        "the cancelled task's issue, closed",
      );
      assert.deepEqual(abandonedIssue!.state, { status: "closed", reason: "other" });

      // alice comments; the task gets the comment, as the bridge.
      await repo.update(ISSUE_TYPE, opened, "Comment", [commentAction("Even more power!", opened)]);
      const commented = await eventually(
        async () => {
          const t = await task(opened);
          return t?.comments.some((c) => c.body === "Even more power!") ? t : undefined;
        },
        30_000,
        "alice's comment on the task",
      );
      assert.equal(commented!.comments.find((c) => c.body === "Even more power!")!.author, bridgeKey.did);

      // Weft → Radicle: a comment and a retitle on the task reach alice's issue, signed by the bridge's node id.
      await cli("task", "comment", opened, "Ordered a plutonium supply");
      await cli("task", "edit", opened, "--title", "flux capacitor needs plutonium");
      const retitled = await eventually(
        async () => {
          const i = await issue(opened);
          return i.title === "flux capacitor needs plutonium" && i.comments.length === 2 ? i : undefined;
        },
        30_000,
        "the task's comment and title on the issue",
      );
      const fromWeft = retitled!.comments.find((c) => c.body === "Ordered a plutonium supply")!;
      assert.equal(fromWeft.author, bridgeNid);
      assert.equal(fromWeft.replyTo, opened);

      // Weft → Radicle: a new task becomes an issue, authored by the bridge.
      await cli("task", "add", "time circuits flicker", "--body", "Since the last jump", "--label", "hardware");
      const made = await eventually(
        async () => {
          for (const id of await repo.objects(ISSUE_TYPE)) {
            const i = await issue(id);
            if (i.title === "time circuits flicker") return i;
          }
        },
        30_000,
        "the task's issue",
      );
      assert.equal(made!.author, bridgeNid);
      assert.equal(made!.description, "Since the last jump");
      assert.deepEqual(made!.labels, ["hardware"]);

      // alice closes her issue as solved: the task is done.
      await repo.update(ISSUE_TYPE, opened, "Lifecycle", [lifecycleAction({ status: "closed", reason: "solved" })]);
      const done = await eventually(
        async () => {
          const t = await task(opened);
          return t?.status === "done" ? t : undefined;
        },
        30_000,
        "the task done",
      );
      assert.equal(done!.status, "done");

      // No echo: one more change elsewhere makes the bridge run full passes again; what was synced stays written once.
      const before = { changes: (await repo.load(ISSUE_TYPE, opened)).changes.length, history: done!.history.length };
      const marker = await cli("task", "add", "a later task");
      await eventually(
        async () => {
          for (const id of await repo.objects(ISSUE_TYPE)) if ((await issue(id)).title === "a later task") return true;
        },
        30_000,
        "the later task's issue",
      );
      await cli("task", "comment", marker.id, "after the fact");
      await eventually(
        async () => {
          for (const id of await repo.objects(ISSUE_TYPE)) {
            const i = await issue(id);
            if (i.title === "a later task" && i.comments.length === 1) return true;
          }
        },
        30_000,
        "the later comment on its issue",
      );
      assert.equal(
        (await repo.load(ISSUE_TYPE, opened)).changes.length,
        before.changes,
        "no change echoed onto the issue",
      );
      const after = await task(opened);
      assert.equal(after!.history.length, before.history, "no operation echoed onto the task");
      assert.equal(after!.comments.length, 2);
      assert.equal((await issue(opened)).comments.length, 2);

      assert.doesNotMatch(peer.out, /sync pass failed|refused a Radicle change|dropped a Radicle change/);

      // Another node's issue claiming to be the later task's (the bridge's marker in its root), then closed: it is an
      // issue of its own, with its own task, and the later task stays open.
      const claimer = RadicleRepository.open(repoDir, {
        signer: nobleSigner(generateSeed()),
        verifier: nobleVerifier(),
        alias: "claimer",
      });
      const claim = await claimer.create(
        ISSUE_TYPE,
        `Create issue\n\nWeft-Task: ${marker.id}`,
        openActions("a later task", "mine now"),
      );
      await claimer.update(ISSUE_TYPE, claim, "Lifecycle", [lifecycleAction({ status: "closed", reason: "solved" })]);
      await eventually(async () => (await task(claim))?.status === "done", 30_000, "the claimer's own task, done");
      assert.equal((await task(marker.id))!.status, "open", "the claim did not close the later task");

      // A forged change (signed by mallory, its author line naming alice) retitling alice's issue is refused on import.
      const mallory = nobleSigner(generateSeed());
      const { id: forged } = await writeChange(repo.git, mallory, {
        typeName: ISSUE_TYPE,
        tips: [(await repo.objectTips(ISSUE_TYPE, opened)).get(opened)!.get(repo.nid)!],
        resource: await repo.identityHead(),
        message: "Edit",
        actions: [canonicalBytes(editAction("pwned"))],
        author: { name: "alice", email: `alice@${repo.nid}` },
        time: Math.floor(Date.now() / 1000),
      });
      await repo.git.updateRef(
        `refs/namespaces/${nidOf(mallory.publicKey)}/refs/cobs/${ISSUE_TYPE}/${opened}`,
        forged,
        undefined,
      );
      await eventually(() => peer.out.includes(forged), 30_000, "the bridge refusing the forged change");
      assert.match(peer.out, new RegExp(`refused a Radicle change.*${forged}.*signed by`));
      assert.equal(
        (await task(opened))!.title,
        "flux capacitor needs plutonium",
        "the forged retitle did not reach the task",
      );
      await git("git", ["--git-dir", repoDir, "fsck", "--strict", "--no-dangling"]);
      const signed = await repo.verifySigrefs(bridgeNid);
      assert.ok([...signed.keys()].some((r) => r.startsWith(`refs/cobs/${ISSUE_TYPE}/`)), "the bridge signed its refs");
    } finally {
      await stopPeer(peer);
      await rm(storage, { recursive: true, force: true });
    }
  });
});
