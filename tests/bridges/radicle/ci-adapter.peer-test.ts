/**
 * `weft ci-adapter` driven the way radicle-ci-broker drives an adapter: the
 * broker's trigger message (push and patch events, in the format of its
 * architecture document) on stdin, JSON lines read back from stdout,
 * against a real peer that runs the repository's WASM test component. The
 * repository is a real bare repository in Radicle storage (`<storage>/<rid>`),
 * its commits holding `.weft/ci.json`. A passing suite answers success, a
 * failing one (a component that overruns its timeout) failure, and a commit
 * with no spec is an error before anything is triggered.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import process from "node:process";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSeed, nobleSigner, nobleVerifier } from "#protocol/identity";
import { RadicleRepository } from "../../../bridges/radicle/repository.ts";
import { GitRepo, type TreeEntry } from "../../../bridges/radicle/git-plumbing.ts";
import { buildSamples } from "../../../wasm-runners/samples/build.ts";
import { type PeerProcess, startPeer, stopPeer } from "../../helpers/peer-process.ts";

const git = promisify(execFile);
const CLI = new URL("../../../peer/cli/weft.js", import.meta.url).pathname;

/** A commit of `files` (nested paths) on top of nothing, written with plumbing. */
async function commitFiles(repo: GitRepo, files: Record<string, Uint8Array | string>): Promise<string> {
  const tree = async (prefix: string): Promise<string> => {
    const entries: TreeEntry[] = [];
    const dirs = new Set<string>();
    for (const [path, content] of Object.entries(files)) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash >= 0) dirs.add(rest.slice(0, slash));
      else entries.push({ mode: "100644", type: "blob", oid: await repo.write("blob", content), name: rest });
    }
    for (const d of dirs) entries.push({ mode: "040000", type: "tree", oid: await tree(`${prefix}${d}/`), name: d });
    return await repo.mktree(entries);
  };
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "alice",
    GIT_AUTHOR_EMAIL: "alice@example",
    GIT_COMMITTER_NAME: "alice",
    GIT_COMMITTER_EMAIL: "alice@example",
  };
  const { stdout } = await git("git", ["--git-dir", repo.dir, "commit-tree", await tree(""), "-m", "test suite"], {
    env,
  });
  return stdout.trim();
}

interface Answer {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** Run the adapter as the broker does: the trigger on stdin, JSON lines from stdout. */
function adapter(peer: PeerProcess, storage: string, trigger: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "ci-adapter", "--storage", storage], {
      env: { ...process.env, WEFT_HOME: peer.home },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on(
      "exit",
      (code) => resolve({ code, lines: out.split("\n").filter(Boolean).map((l) => JSON.parse(l)), stderr: err }),
    );
    child.stdin.end(JSON.stringify(trigger) + "\n");
  });
}

describe("weft ci-adapter, driven by radicle-ci-broker's messages", () => {
  let peer: PeerProcess;
  let storage: string;
  let rid: string;
  let nid: string;
  const commits: Record<string, string> = {};

  before(async () => {
    storage = await mkdtemp(join(tmpdir(), "weft-ci-storage-"));
    const made = await RadicleRepository.init(join(storage, "new"), {
      name: "flux",
      description: "Flux capacitor",
      defaultBranch: "main",
    }, { signer: nobleSigner(generateSeed()), verifier: nobleVerifier(), alias: "alice" });
    rid = made.rid;
    nid = made.repo.nid;
    const dir = join(storage, rid.slice("rad:".length));
    await rename(join(storage, "new"), dir);
    const repo = new GitRepo(dir);
    const samples = await buildSamples();
    commits.passing = await commitFiles(repo, {
      ".weft/ci.json": JSON.stringify({
        program: "ci/count.wasm",
        args: ["README.md"],
        inputs: { "README.md": "README.md" },
        timeout: "60s",
      }),
      "ci/count.wasm": samples["line-count"].component,
      "README.md": "one\ntwo\n",
    });
    commits.failing = await commitFiles(repo, {
      ".weft/ci.json": JSON.stringify({ program: "ci/spin.wasm", timeout: "2s" }),
      "ci/spin.wasm": samples.spin.component,
    });
    commits.nospec = await commitFiles(repo, { "README.md": "no tests here\n" });
    peer = await startPeer({ WEFT_SLOTS: "1" });
  });

  after(async () => {
    if (peer) await stopPeer(peer);
    await rm(storage, { recursive: true, force: true });
  });

  const podOf = async (task: string) => {
    const api = await peer.api();
    const { spaces } = await api.get<{ spaces: { id: string }[] }>("/v1/spaces");
    return await api.get<{ state: string; runner: string; local?: { status?: string } }>(
      `/v1/spaces/${encodeURIComponent(spaces[0].id)}/pods/${task}`,
    );
  };
  const repository = () => ({
    id: rid,
    name: "flux",
    description: "Flux capacitor",
    private: false,
    default_branch: "main",
    delegates: [`did:key:${nid}`],
  });
  const push = (after: string) => ({
    request: "trigger",
    version: 1,
    event_type: "push",
    repository: repository(),
    pusher: { id: `did:key:${nid}`, alias: "alice" },
    before: after,
    after,
    branch: "main",
    commits: [after],
  });

  it(
    "a push whose suite passes: triggered with the run's id, then finished success",
    { timeout: 120_000 },
    async () => {
      const answer = await adapter(peer, storage, push(commits.passing));
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal(answer.lines.length, 2);
      assert.equal(answer.lines[0].response, "triggered");
      const runId = (answer.lines[0].run_id as { id: string }).id;
      assert.match(runId, /^[a-z0-9]{8,40}$/);
      assert.deepEqual(answer.lines[1], { response: "finished", result: "success" });
      const pod = await podOf(runId);
      assert.equal(pod.state, "succeeded");
      assert.equal(pod.runner, "wasm");
    },
  );

  it("a patch whose suite fails (overruns its timeout): finished failure", { timeout: 120_000 }, async () => {
    const answer = await adapter(peer, storage, {
      request: "trigger",
      version: 1,
      event_type: "patch",
      action: "created",
      repository: repository(),
      patch: {
        id: "aa45913e757cacd46972733bddee5472c78fa32a",
        author: { id: `did:key:${nid}`, alias: "alice" },
        title: "Spin forever",
        state: { status: "open", conflicts: [] },
        before: commits.failing,
        after: commits.failing,
        commits: [commits.failing],
        target: "delegates",
        labels: [],
        assignees: [],
        revisions: [{
          id: "aa45913e757cacd46972733bddee5472c78fa32a",
          author: { id: `did:key:${nid}`, alias: "alice" },
          description: "",
          base: commits.failing,
          oid: commits.failing,
          timestamp: 1699437445,
        }],
      },
    });
    assert.equal(answer.code, 0, answer.stderr);
    assert.equal(answer.lines[0].response, "triggered");
    assert.deepEqual(answer.lines[1], { response: "finished", result: "failure" });
    const pod = await podOf((answer.lines[0].run_id as { id: string }).id);
    assert.equal(pod.state, "failed");
    assert.equal(pod.local?.status, "timeout", "it failed because the suite overran, not for another reason");
  });

  it("a commit without .weft/ci.json, or a message that is no trigger: an error, nothing triggered", {
    timeout: 60_000,
  }, async () => {
    const none = await adapter(peer, storage, push(commits.nospec));
    assert.notEqual(none.code, 0);
    assert.deepEqual(none.lines, []);
    assert.match(none.stderr, /has no \.weft\/ci\.json/);
    const bad = await adapter(peer, storage, { request: "shutdown" });
    assert.notEqual(bad.code, 0);
    assert.deepEqual(bad.lines, []);
    assert.match(bad.stderr, /not "trigger"/);
  });
});
