/**
 * The Radicle bridge's COB writes and reads, against the raw git they are
 * made of, in the same run:
 *
 *   write: one issue comment change (its history loaded for the tips, the
 *          action blob, tree and signed commit written, the ref moved, the
 *          sigrefs re-signed) against one plain commit by git plumbing
 *          (hash-object, mktree, commit-tree, update-ref);
 *   read:  a cold load and evaluation of an issue of N changes (every change
 *          read and its signature verified) against reading the same objects
 *          with one `git cat-file --batch`.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nobleSigner, nobleVerifier } from "../../protocol/identity/index.ts";
import { RadicleRepository } from "../../bridges/radicle/repository.ts";
import { commentAction, evaluateIssue, ISSUE_TYPE, openActions } from "../../bridges/radicle/issue-cob.ts";
import { report } from "./report.ts";

const BENCH = "radicle-cob";
const N = Number(process.env.WEFT_RADICLE_CHANGES ?? 100);
const git = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), "weft-radbench-"));
const options = { signer: nobleSigner(new Uint8Array(32).fill(7)), verifier: nobleVerifier(), alias: "bench" };
try {
  const { repo } = await RadicleRepository.init(join(dir, "cob.git"), {
    name: "bench",
    description: "",
    defaultBranch: "main",
  }, options);
  const issue = await repo.create(ISSUE_TYPE, "Create issue", openActions("bench", "body"));
  let t = performance.now();
  for (let i = 1; i < N; i++) await repo.update(ISSUE_TYPE, issue, "Comment", [commentAction(`comment ${i}`, issue)]);
  const write = (performance.now() - t) / (N - 1);

  const raw = join(dir, "raw.git");
  await git("git", ["init", "--bare", "-q", raw]);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "b",
    GIT_AUTHOR_EMAIL: "b@b",
    GIT_COMMITTER_NAME: "b",
    GIT_COMMITTER_EMAIL: "b@b",
  };
  const g = (args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(
        "git",
        ["--git-dir", raw, ...args],
        { env },
        (e, out) => (e ? reject(e) : resolve(out.trim())),
      );
      if (input !== undefined) child.stdin!.end(input);
    });
  let parent: string | undefined;
  t = performance.now();
  for (let i = 1; i < N; i++) {
    const blob = await g(["hash-object", "-w", "--stdin"], `{"body":"comment ${i}","type":"comment"}`);
    const tree = await g(["mktree"], `100644 blob ${blob}\t0\n`);
    const commit = await g(["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", "Comment"]);
    await g(["update-ref", "refs/heads/main", commit, ...(parent ? [parent] : [])]);
    parent = commit;
  }
  const rawWrite = (performance.now() - t) / (N - 1);
  report({
    bench: BENCH,
    metric: "write one change",
    value: write,
    unit: "ms",
    baseline: rawWrite,
    note: "baseline: one plain commit by git plumbing",
  });

  const cold = RadicleRepository.open(repo.git.dir, options);
  t = performance.now();
  const loaded = await cold.load(ISSUE_TYPE, issue);
  const view = evaluateIssue(loaded.changes, await cold.delegates());
  const read = performance.now() - t;
  if (view.comments.length !== N - 1) throw new Error(`read ${view.comments.length} comments, wrote ${N - 1}`);
  const objects = (await git("git", [
    "--git-dir",
    repo.git.dir,
    "rev-list",
    "--objects",
    `refs/namespaces/${repo.nid}/refs/cobs/${ISSUE_TYPE}/${issue}`,
  ]))
    .stdout.split("\n").filter(Boolean).map((l) => l.slice(0, 40));
  t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn("git", ["--git-dir", repo.git.dir, "cat-file", "--batch"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.resume();
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`cat-file exited ${code}`))));
    child.stdin.end(objects.join("\n") + "\n");
  });
  const rawRead = performance.now() - t;
  report({
    bench: BENCH,
    metric: `cold load of ${N} changes`,
    value: read,
    unit: "ms",
    baseline: rawRead,
    note: `baseline: git cat-file --batch of its ${objects.length} objects`,
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
