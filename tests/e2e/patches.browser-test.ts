/**
 * Code review in the dashboard, in Debian's Chromium against a real peer
 * daemon with real git: a repository pushed through git-remote-weft, a
 * patch with two revisions proposed with the CLI; in the browser, the
 * Patches view lists it with its checks missing, its page shows the diff
 * per file (unified and side by side) and the diff between its revisions,
 * an inline comment anchored to a file and line is signed by the browser's
 * key and reaches the peer, and the merge button says why it is off until
 * a real run of the head commit passes; then it is approved and merged from
 * the browser and the peer's bare repository moves. A second patch, made
 * from the old base, is merged from the browser with a merge commit made
 * there; the peer takes it and plain git fetches it. When the peer that
 * served the page fails, the browser fetches the code from a second member
 * peer, across origins (the API's CORS). Finally, with the peer
 * stopped and the browser offline, files and a diff are still browsable
 * from the browser's own copy (IndexedDB).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import type { Patch } from "../../protocol/patch/state.ts";
import type { PatchReducer } from "../../protocol/patch/reducer.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import type { Space } from "../../protocol/space/space.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { appReady, did, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../peer/cli/weft.js", import.meta.url));
const HELPER = fileURLToPath(new URL("../../peer/cli/git-remote-weft.js", import.meta.url));

const BASE_FILE = [
  "export function read(frame: Uint8Array) {",
  "  const n = frame[0];",
  "  return frame.subarray(1, n);",
  "}",
  "",
]
  .join("\n");
const REV1_FILE = BASE_FILE.replace(
  "  const n = frame[0];",
  '  const n = frame[0];\n  if (n >= frame.length) throw new RangeError("short frame");',
);
const REV2_FILE = REV1_FILE.replace("short frame", "frame shorter than its length");

describe("patches and code in Chromium against a peer daemon", { timeout: 900_000 }, () => {
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let work: string;
  let bin: string;
  let base: string, head1: string, head2: string;
  let patchId: string;
  let stopped = false;

  const env = () => ({
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    WEFT_HOME: d.home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "Ada",
    GIT_AUTHOR_EMAIL: "ada@weft.invalid",
    GIT_COMMITTER_NAME: "Ada",
    GIT_COMMITTER_EMAIL: "ada@weft.invalid",
  });
  const git = async (cwd: string, ...args: string[]) => (await run("git", args, { cwd, env: env() })).stdout.trim();
  const weft = async (cwd: string, ...args: string[]) =>
    (await run(process.execPath, [CLI, ...args], { cwd, env: env() })).stdout.trim();
  const patchOf = (id: string) => space.log.state<PatchReducer>("patch").patches.get(id) as Patch;
  const patch = () => patchOf(patchId);

  /** A real WASM run of `commit`, placed by the mesh on the peer, once it passed. */
  const passingRun = async (commit: string): Promise<Pod> => {
    const wasm = join(work, "sleep.wasm");
    await writeFile(wasm, (await buildSamples()).sleep.component);
    const program = (await new ArtifactClient(d.client).upload(space.id, wasm, { hashing() {}, sending() {} })).cid;
    const pod = await d.client.op<"create", Pod>(space.id, "create", {
      task: newTaskId(),
      title: `tests of ${commit.slice(0, 7)}`,
      run: {
        runner: "wasm",
        program,
        args: ["1"],
        inputs: [],
        env: [],
        limits: { wallMs: 30_000, memoryMb: 32, outputBytes: 1 << 20 },
        source: { cid: program, commit },
      },
    }, { path: `/v1/spaces/${encodeURIComponent(space.id)}/schedule` });
    await eventually(
      () => space.task(pod.task)?.results[0]?.outcome === "success" || undefined,
      120_000,
      "the run passed",
    );
    return pod;
  };

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    bin = await mkdtemp(join(tmpdir(), "weft-bin-"));
    await symlink(HELPER, join(bin, "git-remote-weft"));
    work = await mkdtemp(join(tmpdir(), "weft-code-"));
    d = await testDaemon();
    space = d.daemon.node.spaces()[0];

    ada = await openProfile();
    await ada.page.goto(d.daemon.url);
    await appReady(ada.page);
    await ada.page.fill("#invite-text", await d.daemon.node.invite(space.id, { name: "link for ada" }));
    await ada.page.click("form[aria-labelledby=join-title] button[type=submit]");
    await ada.page.waitForSelector("#tasks-title", { timeout: 60_000 });

    // A repository with a base commit on main, and a branch with two revisions of a fix, all through plain git.
    // The browser maintains the repository with the CLI's key: only a maintainer moves its default branch.
    const cli = (await loadCredentials(d.home)).signer.did;
    await weft(work, "repo", "create", "demo", "--maintainer", cli, "--maintainer", await did(ada.page));
    const repo = join(work, "demo");
    await git(work, "clone", "-q", `weft::${space.id}/demo`, repo);
    await mkdir(join(repo, "src"));
    await writeFile(join(repo, "src", "frame.ts"), BASE_FILE);
    await writeFile(join(repo, "README.md"), "# demo\n");
    await git(repo, "add", ".");
    await git(repo, "commit", "-q", "-m", "base");
    await git(repo, "branch", "-M", "main"); // an empty clone's branch is git's own default name
    await git(repo, "push", "-q", "origin", "main");
    base = await git(repo, "rev-parse", "HEAD");
    await git(repo, "checkout", "-q", "-b", "fix");
    await writeFile(join(repo, "src", "frame.ts"), REV1_FILE);
    await writeFile(join(repo, "src", "frame.test.ts"), "// a short frame throws\n");
    await git(repo, "add", ".");
    await git(repo, "commit", "-q", "-m", "check the length before reading");
    head1 = await git(repo, "rev-parse", "HEAD");
    await git(repo, "push", "-q", "origin", "fix");
    await weft(repo, "patch", "propose", "Check a frame's length before reading it", "--repo", "demo");
    patchId = (await eventually(
      () => [...space.log.state<PatchReducer>("patch").patches.values()][0]?.id,
      30_000,
      "the patch on the peer",
    ))!;
    await writeFile(join(repo, "src", "frame.ts"), REV2_FILE);
    await git(repo, "commit", "-q", "-am", "say what is short");
    head2 = await git(repo, "rev-parse", "HEAD");
    await git(repo, "push", "-q", "origin", "fix");
    await weft(repo, "patch", "revise", patchId);
    assert.equal(patch().revisions.length, 2);
    assert.equal(patch().revisions[1].head, head2);
  });

  after(async () => {
    await ada?.close();
    if (!stopped) await d?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (bin) await rm(bin, { recursive: true, force: true });
  });

  it("takes nothing from a peer whose pack lacks the commits asked for, and says so; fetching again from an honest answer works", async () => {
    const page = ada.page;
    // What a lying or broken peer could send: a well-formed pack of the base commit only, whatever was asked.
    const partial = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn("git", ["-C", join(work, "demo"), "pack-objects", "--revs", "--stdout", "--quiet"]);
      const out: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.on("error", reject);
      child.on("close", (code) => code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`pack-objects ${code}`)));
      child.stdin.end(`${base}\n`);
    });
    await page.route(
      "**/repos/demo/pack",
      (route) => route.fulfill({ status: 200, contentType: "application/x-git-packfile", body: partial }),
    );
    await page.click("nav >> text=Code");
    await page.locator("[data-fetch-state=stale]", { hasText: "without commits it was asked for" }).waitFor({
      timeout: 60_000,
    });
    // Its base commit arrived and main points at it, as the space says; the fix branch is not here, so nothing names it.
    await page.selectOption("#code-ref", "refs/heads/fix");
    await page.locator("main .empty", { hasText: "Nothing to show here yet" }).waitFor();
    await page.unroute("**/repos/demo/pack");
    await page.click("[data-fetch-state] button");
    await page.locator("[data-fetch-state=ready]").waitFor({ timeout: 60_000 });
    await page.locator("[data-entry='src/frame.test.ts'], [data-entry=src]").first().waitFor();
  });

  it("lists the patch with its checks missing, and its page shows the diff per file, unified and side by side", async () => {
    const page = ada.page;
    await page.click("nav >> text=Patches");
    await page.locator("#patches-title").waitFor();
    const row = page.locator(`tr[data-patch="${patchId}"]`);
    await row.locator("[data-checks=missing]").waitFor({ timeout: 60_000 });
    await page.selectOption("#patches-checks", "passed");
    await page.locator("main .empty", { hasText: "No patch matches" }).waitFor();
    await page.selectOption("#patches-checks", "missing");
    await row.waitFor();
    await row.locator("a").click();
    await page.locator(`[data-patch-page="${patchId}"]`).waitFor();
    // Revision 2's changes against the base: the fix to frame.ts and a new test file.
    const file = page.locator('[data-diff-file="src/frame.ts"]');
    await file.locator("tr.d-add", { hasText: "frame shorter than its length" }).waitFor({ timeout: 60_000 });
    await page.locator('[data-diff-file="src/frame.test.ts"]', { hasText: "added" }).waitFor();
    assert.equal(await page.locator("[data-diff-file]").count(), 2, "README.md did not change");
    await page.check("input[name=diff-mode][value=split]");
    // An added line sits on the right with nothing beside it on the left.
    const added = file.locator("table.diff-split tr", { has: page.locator("td.d-add", { hasText: "frame shorter" }) });
    await added.waitFor();
    assert.equal(await added.locator("td.d-none").count(), 1);
    await shot(page, "30-patch-split");
    await page.check("input[name=diff-mode][value=unified]");
  });

  it("shows the diff between the two revisions", async () => {
    const page = ada.page;
    await page.click("[data-interdiff='2']");
    const file = page.locator('[data-diff-file="src/frame.ts"]');
    await file.locator("tr.d-del", { hasText: '"short frame"' }).waitFor();
    await file.locator("tr.d-add", { hasText: "frame shorter than its length" }).waitFor();
    assert.equal(await page.locator("[data-diff-file]").count(), 1, "only frame.ts changed between the revisions");
    await page.selectOption("#diff-from", "0");
  });

  it("signs an inline comment anchored to a file and line with the browser's key; the peer has it", async () => {
    const page = ada.page;
    const me = await did(page);
    const line = `src/frame.ts:3`;
    await page.locator(`[data-comment-line="${line}"]`).first().click();
    await page.fill("tr.diff-compose textarea", "Say which length: the frame's or the declared one?");
    await page.click("tr.diff-compose button[type=submit]");
    await page.locator(`tr.diff-comment[data-comment-at="${line}"]`, { hasText: "Say which length" }).waitFor();
    const review = (await eventually(
      () => patch().reviews.find((r) => r.author === me),
      30_000,
      "the browser's review on the peer",
    ))!;
    assert.equal(review.verdict, "comment");
    assert.equal(review.revision, patch().revisions[1].id, "anchored to the revision shown");
    assert.deepEqual(review.comments, [
      { path: "src/frame.ts", line: 3, body: "Say which length: the frame's or the declared one?" },
    ]);
  });

  it("keeps merge off, saying the check is missing, until a real run of the head commit passes; then approves and merges", async () => {
    const page = ada.page;
    const blocker = page.locator("[data-merge-blocker]", { hasText: "check tests missing" });
    await blocker.waitFor({ timeout: 60_000 });
    assert.equal(await page.isDisabled("#merge"), true);
    await shot(page, "31-merge-off");

    const pod = await passingRun(head2);

    const check = page.locator("[data-check=tests][data-check-status=passed]");
    await check.waitFor({ timeout: 60_000 });
    await check.locator("[data-provenance=verified]").waitFor();
    assert.equal(await check.locator(`[data-check-run="${pod.task}"]`).count(), 1, "links to the run");
    await page.click("#approve");
    await eventually(() => patch().reviews.some((r) => r.verdict === "approve") || undefined, 30_000, "the approval");
    await page.waitForFunction(() => !(document.getElementById("merge") as HTMLButtonElement).disabled, undefined, {
      timeout: 60_000,
    });
    assert.equal(await page.locator("[data-merge-blocker]").count(), 0);
    await page.click("#merge");
    await eventually(() => patch().status === "merged" || undefined, 30_000, "merged on the peer");
    assert.equal(patch().merge?.commit, head2);
    assert.equal(patch().merge?.by, await did(page), "merged by the browser's key");
    await page.locator("[data-merged]").waitFor();
    const repo = await eventually(
      async () => {
        const r = await d.client.get<{ local: Record<string, string> }>(
          `/v1/spaces/${encodeURIComponent(space.id)}/repos/demo`,
        );
        return r.local["refs/heads/main"] === head2 ? r : undefined;
      },
      30_000,
      "the peer's bare repository at the merged head",
    );
    assert.ok(repo);
    await page.click("nav >> text=Patches");
    await page.locator(`tr[data-patch="${patchId}"] [data-patch-status=merged]`).waitFor();
    await shot(page, "32-merged");
  });

  it("merges with a merge commit made in the browser when the target has moved on; the peer takes it", async () => {
    const page = ada.page;
    // A patch from the base, which main (now the first patch's head) no longer is: no fast-forward can land it.
    const repo = join(work, "demo");
    await git(repo, "checkout", "-q", "-b", "docs", base);
    await writeFile(join(repo, "CONTRIBUTING.md"), "Run the tests first.\n");
    await git(repo, "add", ".");
    await git(repo, "commit", "-q", "-m", "say how to contribute");
    const head3 = await git(repo, "rev-parse", "HEAD");
    await git(repo, "push", "-q", "origin", "docs");
    await weft(repo, "patch", "propose", "Say how to contribute", "--repo", "demo");
    const docs = (await eventually(
      () => [...space.log.state<PatchReducer>("patch").patches.values()].find((p) => p.revisions[0].head === head3)?.id,
      30_000,
      "the second patch on the peer",
    ))!;
    await passingRun(head3);
    await page.click("nav >> text=Patches");
    await page.locator(`tr[data-patch="${docs}"] a`).click();
    await page.locator(`[data-patch-page="${docs}"]`).waitFor();
    await page.click("#approve");
    await page.waitForFunction(
      () => !(document.getElementById("merge-commit") as HTMLButtonElement).disabled,
      undefined,
      { timeout: 60_000 },
    );
    await page.click("#merge-commit");
    await eventually(() => patchOf(docs).status === "merged" || undefined, 60_000, "merged on the peer");
    const merged = patchOf(docs).merge!;
    assert.equal(merged.strategy, "merge-commit");
    assert.equal(merged.by, await did(page), "merged by the browser's key");
    const local = await eventually(
      async () => {
        const r = await d.client.get<{ local: Record<string, string> }>(
          `/v1/spaces/${encodeURIComponent(space.id)}/repos/demo`,
        );
        return r.local["refs/heads/main"] === merged.commit ? r : undefined;
      },
      30_000,
      "the peer's bare repository at the merge commit",
    );
    assert.ok(local);
    // Plain git fetches it from the peer: both parents, both changes, and every object well formed.
    await git(repo, "fetch", "-q", "origin", "main");
    assert.equal(await git(repo, "rev-parse", "FETCH_HEAD"), merged.commit);
    assert.equal(await git(repo, "rev-parse", `${merged.commit}^1`), head2, "first parent: where main was");
    assert.equal(await git(repo, "rev-parse", `${merged.commit}^2`), head3, "second parent: the patch's head");
    assert.match(await git(repo, "show", `${merged.commit}:CONTRIBUTING.md`), /Run the tests first/);
    assert.match(await git(repo, "show", `${merged.commit}:src/frame.ts`), /frame shorter than its length/);
    await git(repo, "fsck", "--strict", "--no-dangling");
    await page.locator("[data-merged]").waitFor();
    await shot(page, "32-merged-with-commit");
  });

  it("fetches code from another member peer, across origins, when the peer that served the page cannot send it", async () => {
    const page = ada.page;
    const b = await testDaemon();
    const before = ada.errors.length;
    try {
      // A second member peer, joined through the first, carrying the repository too.
      const invite = await d.daemon.node.invite(space.id, { audience: b.daemon.node.did });
      const address = d.daemon.node.libp2p!.getMultiaddrs()[0].toString();
      await b.client.request("POST", "/v1/spaces/join", { invite, peers: [address] });
      const repo = join(work, "demo");
      await git(repo, "checkout", "-q", "-b", "more", base);
      await writeFile(join(repo, "MORE.md"), "more\n");
      await git(repo, "add", ".");
      await git(repo, "commit", "-q", "-m", "more");
      const more = await git(repo, "rev-parse", "HEAD");
      await git(repo, "push", "-q", "origin", "more");
      await eventually(
        async () =>
          (await b.client.get<{ local: Record<string, string> }>(
              `/v1/spaces/${encodeURIComponent(space.id)}/repos/demo`,
            )).local["refs/heads/more"] === more || undefined,
        60_000,
        "the second peer holds the new branch",
      );
      // The browser syncs with it as well; the peer that served the page now fails every pack.
      await page.click("nav >> text=Settings");
      await page.fill("#peer-address", b.daemon.url);
      await page.click("form:has(#peer-address) button[type=submit]");
      await page.locator("text=Synced with 2 peers").waitFor({ timeout: 60_000 });
      await page.route(`${d.daemon.url}/v1/spaces/*/repos/demo/pack`, (route) => route.abort());
      const fromB = page.waitForResponse(
        (r) => r.url().startsWith(b.daemon.url) && r.url().endsWith("/repos/demo/pack") && r.ok(),
        { timeout: 90_000 },
      );
      await page.click("nav >> text=Code");
      await page.locator("#code-title").waitFor();
      await page.click("[data-fetch-state] button");
      await fromB;
      await page.locator("[data-fetch-state=ready]").waitFor({ timeout: 60_000 });
      await page.selectOption("#code-ref", "refs/heads/more");
      await page.locator("[data-entry='MORE.md']").waitFor({ timeout: 30_000 });
      await page.unroute(`${d.daemon.url}/v1/spaces/*/repos/demo/pack`);
      await page.click("nav >> text=Settings");
      const remove = page.locator(`button[aria-label^="Stop syncing with ws://${new URL(b.daemon.url).host}/"]`);
      await remove.click();
      await remove.waitFor({ state: "detached" }); // no longer dialled: its stopping is no error here
    } finally {
      await b.stop();
    }
    // The console errors this case caused on purpose (the first peer's packs, cut off) and no other.
    const caused = ada.errors.splice(before).map((e) => e.text);
    assert.ok(caused.every((t) => t === "Failed to load resource: net::ERR_FAILED"), JSON.stringify(caused));
  });

  it("browses files and a diff offline, from the browser's own copy, after the peer stops", async () => {
    const page = ada.page;
    // Fetch once more so the browser's main is the merged head, then lose the peer.
    await page.click("nav >> text=Code");
    await page.locator("[data-fetch-state=ready]").waitFor({ timeout: 60_000 });
    await ada.setOffline(true);
    await d.stop();
    stopped = true;
    await page.reload();
    await appReady(page);
    await page.locator("#code-title").waitFor();
    await page.locator("[data-fetch-state=stale]").waitFor({ timeout: 60_000 });
    await page.click("[data-entry=src] button");
    await page.click("[data-entry='src/frame.ts'] button");
    await page.locator("pre[data-file='src/frame.ts']", { hasText: "frame shorter than its length" }).waitFor();
    await page.fill("#compare-from", base);
    await page.fill("#compare-to", head1);
    await page.click("form[aria-labelledby=compare-form-title] button[type=submit]");
    await page.locator('[data-diff-file="src/frame.ts"] tr.d-add', { hasText: "short frame" }).waitFor();
    await shot(page, "33-offline-diff");
    const errors = ada.errors.filter((e) => !e.offline).map((e) => e.text);
    assert.deepEqual(errors, []);
  });
});
