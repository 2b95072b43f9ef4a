/**
 * Plain git against Weft peers (real peer processes, real git): clone, push
 * and fetch through git-remote-weft on one peer; a push on one peer appears,
 * objects and refs, on the others; a push outside the pusher's ref policy is
 * refused with git's own "remote rejected" and on every peer.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type PeerProcess, joinPeer, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { eventually } from "../helpers/nodes.ts";

const run = promisify(execFile);
const HELPER = new URL("../../peer/cli/git-remote-weft.ts", import.meta.url).pathname;

let bin: string;
let work: string;

/** git as a user runs it, with git-remote-weft on PATH and the peer's home as WEFT_HOME. */
async function git(p: PeerProcess, cwd: string, ...args: string[]) {
  return (await run("git", args, {
    cwd,
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      WEFT_HOME: p.home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@weft.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@weft.invalid",
    },
  })).stdout.trim();
}

async function commit(p: PeerProcess, dir: string, file: string) {
  await run("sh", ["-c", `echo ${file} > ${file}`], { cwd: dir });
  await git(p, dir, "add", file);
  await git(p, dir, "commit", "-q", "-m", file);
  return await git(p, dir, "rev-parse", "HEAD");
}

async function peerRefs(p: PeerProcess, space: string, repo: string) {
  const client = await p.api();
  return await client.get<{ refs: Record<string, string>; local: Record<string, string> }>(
    `/v1/spaces/${encodeURIComponent(space)}/repos/${repo}`,
  );
}

before(async () => {
  bin = await mkdtemp(join(tmpdir(), "weft-bin-"));
  await symlink(HELPER, join(bin, "git-remote-weft"));
  work = await mkdtemp(join(tmpdir(), "weft-git-"));
});
after(async () => {
  await rm(bin, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe("git-remote-weft on one peer", () => {
  let a: PeerProcess;
  before(async () => (a = await startPeer()));
  after(async () => void (await stopPeer(a)));

  it("clone, push, fetch; a non-fast-forward push is refused locally", async () => {
    const space = JSON.parse(await weft(a, "space", "list", "--json")).spaces[0].id as string;
    await weft(a, "repo", "create", "demo");
    const url = `weft::${space}/demo`;
    const one = join(work, "one");
    await git(a, work, "clone", "-q", url, one);
    const c1 = await commit(a, one, "a.txt");
    await git(a, one, "push", "-q", "origin", "HEAD:refs/heads/main");
    assert.deepEqual((await peerRefs(a, space, "demo")).refs, { "refs/heads/main": c1 });
    await eventually(async () => (await peerRefs(a, space, "demo")).local["refs/heads/main"] === c1, 10_000, "bare repo follows");

    const two = join(work, "two");
    await git(a, work, "clone", "-q", url, two);
    assert.equal(await git(a, two, "rev-parse", "HEAD"), c1);
    assert.equal(await git(a, two, "cat-file", "-p", "HEAD:a.txt"), "a.txt");
    const c2 = await commit(a, two, "b.txt");
    await git(a, two, "push", "-q", "origin", "main");
    await git(a, one, "fetch", "-q", "origin");
    assert.equal(await git(a, one, "rev-parse", "origin/main"), c2);

    // `one` is behind: its own commit on c1 is not a fast-forward of c2.
    await commit(a, one, "c.txt");
    await assert.rejects(git(a, one, "push", "-q", "origin", "HEAD:refs/heads/main"), /non-fast-forward|rejected/);
    assert.deepEqual((await peerRefs(a, space, "demo")).refs, { "refs/heads/main": c2 });
  });
});
