/**
 * A peer refuses a patch merge whose commits it holds and which do not line
 * up in git — a "fast-forward" to a commit that does not descend from where
 * the target points, a "merge commit" that does not merge the patch's head —
 * though the patch log alone would take it (its reducer has no git). The
 * refused merge changes nothing; a merge that lines up goes through, and
 * `weft patch merge --merge-commit` sends a merge commit the peer never saw
 * along with it — under the merge right alone: a member who may merge but
 * not push uploads the merge commit's objects and lands it, and still may
 * not upload a push's. Real peer, real git, pushes through git-remote-weft.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { helperBin, weftGit } from "../helpers/weft-git.ts";
import type { Patch } from "../../protocol/patch/state.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { ApiClient } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import { uploadObjects } from "../../peer/repo/object-upload.ts";
import { delegationIn, signer } from "../helpers/principals.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

describe("merge ancestry, checked by the peer that holds the commits", () => {
  let d: TestDaemon;
  let dir: string;
  let space: string;
  let git: ReturnType<typeof weftGit>;
  let main: string, ahead: string, stray: string, merged: string, unrelatedMerge: string;

  const repo = () =>
    d.client.get<{ refs: Record<string, string>; local: Record<string, string> }>(
      `/v1/spaces/${encodeURIComponent(space)}/repos/demo`,
    );
  const propose = (head: string) =>
    d.client.patchOp<"propose", Patch>(space, "propose", {
      patch: newTaskId(),
      repo: "demo",
      target: "refs/heads/main",
      base: main,
      head,
      title: `land ${head.slice(0, 7)}`,
    });
  const merge = (p: Patch, strategy: "fast-forward" | "merge-commit", commit: string) =>
    d.client.patchOp<"merge", Patch>(space, "merge", {
      patch: p.id,
      revision: p.revisions[0].id,
      onto: main,
      commit,
      strategy,
      evidence: [],
    });

  before(async () => {
    d = await testDaemon();
    dir = await mkdtemp(join(tmpdir(), "weft-ancestry-"));
    const work = join(dir, "work");
    git = weftGit(d.home, await helperBin(dir), work);
    space = (await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
    await run(process.execPath, [CLI, "repo", "create", "demo", "--space", space], {
      env: { ...process.env, WEFT_HOME: d.home },
    });
    // No checks required here: this suite is about ancestry, not the merge gate.
    await d.client.patchOp(space, "policy", { repo: "demo", checks: [] });
    const url = `weft::${space}/demo`;
    await run("git", ["init", "-q", "-b", "main", work]);
    const commit = async (file: string) => {
      await writeFile(join(work, file), `${file}\n`);
      await git("add", file);
      await git("commit", "-q", "-m", file);
      return await git("rev-parse", "HEAD");
    };
    main = await commit("base.txt");
    await git("push", "-q", url, "HEAD:refs/heads/main");
    ahead = await commit("ahead.txt");
    await git("push", "-q", url, "HEAD:refs/heads/ahead");
    // A merge commit of `ahead` into main, and one that merges something else.
    await git("checkout", "-q", "-b", "merged", main);
    await git("merge", "-q", "--no-ff", "-m", "merge ahead", ahead);
    merged = await git("rev-parse", "HEAD");
    await git("push", "-q", url, "HEAD:refs/heads/merged");
    // A history of its own: it shares nothing with main.
    await git("checkout", "-q", "--orphan", "stray");
    stray = await commit("stray.txt");
    await git("push", "-q", url, "HEAD:refs/heads/stray");
    await git("checkout", "-q", "-b", "other", main);
    await git("merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", "merge stray", stray);
    unrelatedMerge = await git("rev-parse", "HEAD");
    await git("push", "-q", url, "HEAD:refs/heads/other");
    await eventually(
      async () => Object.keys((await repo()).local).length === 5,
      20_000,
      "the peer's copy holds every pushed branch",
    );
  });
  after(async () => {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a fast-forward to a commit that does not descend from the target", async () => {
    const p = await propose(stray);
    await assert.rejects(merge(p, "fast-forward", stray), (e: { code: string; message: string }) => {
      assert.equal(e.code, "patch/refused");
      assert.match(e.message, /does not descend from .* not a fast-forward/);
      return true;
    });
    const after = await d.client.get<Patch>(`/v1/spaces/${encodeURIComponent(space)}/patches/${p.id}`);
    assert.equal(after.status, "open");
    assert.equal((await repo()).refs["refs/heads/main"], main, "the target did not move");
  });

  it("refuses a merge commit that does not merge the patch's head", async () => {
    const p = await propose(ahead);
    await assert.rejects(merge(p, "merge-commit", unrelatedMerge), /does not descend from the revision's head/);
    assert.equal((await repo()).refs["refs/heads/main"], main);
  });

  it("takes a merge commit that merges the head onto the target", async () => {
    const p = await propose(ahead);
    const done = await merge(p, "merge-commit", merged);
    assert.equal(done.status, "merged");
    assert.equal((await repo()).refs["refs/heads/main"], merged);
  });

  it("`weft patch merge --merge-commit` sends a merge commit the peer never saw with the merge", async () => {
    await git("checkout", "-q", "-b", "late", merged);
    await writeFile(join(dir, "work", "late.txt"), "late\n");
    await git("add", "late.txt");
    await git("commit", "-q", "-m", "late");
    const late = await git("rev-parse", "HEAD");
    await git("push", "-q", `weft::${space}/demo`, "HEAD:refs/heads/late");
    await git("checkout", "-q", "-b", "landing", merged);
    await git("merge", "-q", "--no-ff", "-m", "merge late", late);
    const landing = await git("rev-parse", "HEAD"); // never pushed
    const p = await d.client.patchOp<"propose", Patch>(space, "propose", {
      patch: newTaskId(),
      repo: "demo",
      target: "refs/heads/main",
      base: merged,
      head: late,
      title: "late",
    });
    await run(process.execPath, [CLI, "patch", "merge", p.id, "--merge-commit", "HEAD", "--space", space], {
      cwd: join(dir, "work"),
      env: { ...process.env, WEFT_HOME: d.home },
    });
    assert.equal((await repo()).refs["refs/heads/main"], landing);
    await eventually(
      async () => (await repo()).local["refs/heads/main"] === landing,
      20_000,
      "the peer's copy holds the merge commit and follows the target",
    );
  });

  it("a member with the merge right but no push right lands a merge commit it uploads, and may not push objects", async () => {
    const enc = encodeURIComponent;
    const creds = await loadCredentials(d.home);
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
    const chain = spaces.find((s) => s.id === space)!.chain;
    const key = await signer();
    const grant = await d.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      { audience: key.did, command: Commands.patchMerge, name: "merger" },
    );
    const merging = await delegationIn(grant.container, grant.cid);
    const c: Credentials = { ...creds, signer: key, nodeDelegation: merging, powerline: merging };
    const merger = new ApiClient(c, creds.url, { [space]: chain });

    // The default branch also needs a maintainer (the repository's rule, whatever the strategy): land on another.
    const onto = (await repo()).refs["refs/heads/main"];
    await git("push", "-q", `weft::${space}/demo`, `${onto}:refs/heads/staging`);
    await git("checkout", "-q", "-b", "later", onto);
    await writeFile(join(dir, "work", "later.txt"), "later\n");
    await git("add", "later.txt");
    await git("commit", "-q", "-m", "later");
    const later = await git("rev-parse", "HEAD");
    await git("push", "-q", `weft::${space}/demo`, "HEAD:refs/heads/later");
    await git("checkout", "-q", "-b", "landing-later", onto);
    await git("merge", "-q", "--no-ff", "-m", "merge later", later);
    const landing = await git("rev-parse", "HEAD"); // never pushed
    const p = await d.client.patchOp<"propose", Patch>(space, "propose", {
      patch: newTaskId(),
      repo: "demo",
      base: onto,
      head: later,
      title: "later",
      target: "refs/heads/staging",
    });

    const base = `/v1/spaces/${enc(space)}/repos/demo`;
    const env = { GIT_DIR: join(dir, "work", ".git") };
    await assert.rejects(
      uploadObjects(merger, base, "push", [landing], [onto, later], env),
      (e: { status: number }) => e.status === 403,
      "a push's upload needs the push right",
    );
    const quarantine = await uploadObjects(merger, base, "merge", [landing], [onto, later], env);
    const done = await merger.patchOp<"merge", Patch>(space, "merge", {
      patch: p.id,
      revision: p.revisions[0].id,
      onto,
      commit: landing,
      strategy: "merge-commit",
      evidence: [],
    }, { query: new URLSearchParams({ quarantine }) });
    assert.equal(done.status, "merged");
    assert.equal((await repo()).refs["refs/heads/staging"], landing);
    await eventually(
      async () => (await repo()).local["refs/heads/staging"] === landing,
      20_000,
      "the peer's copy holds the uploaded merge commit and follows the target",
    );
  });
});
