/**
 * The agent's working tree and tool protocol with real git: the model's
 * paths stay inside the checkout (no `..`, no `.git`, no symlink out, even
 * one committed in the repository), reads and writes are bounded, a
 * replacement must match exactly once, snapshots are commits on the base
 * authored by the agent, and answers that are not one well-formed tool call
 * are refused with what to fix.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { MAX_FILE_BYTES, Workspace } from "../../peer/agents/loop/workspace.ts";
import { parseToolCall } from "../../peer/agents/loop/tool-calls.ts";

const run = promisify(execFile);
const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Ada",
  GIT_AUTHOR_EMAIL: "ada@weft.invalid",
  GIT_COMMITTER_NAME: "Ada",
  GIT_COMMITTER_EMAIL: "ada@weft.invalid",
};
const git = async (cwd: string, ...args: string[]) => (await run("git", args, { cwd, env: ENV })).stdout.trim();

describe("the agent's working tree", () => {
  let dir: string, bare: string, base: string, secret: string;
  let work: Workspace;
  const agent = { name: "fixer", did: "did:key:z6MkfixerAgent" };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-ws-test-"));
    secret = join(dir, "secret.txt");
    await writeFile(secret, "host secret\n");
    const src = join(dir, "src");
    await git(dir, "init", "-q", "-b", "main", src);
    await writeFile(join(src, "a.txt"), "one two two\n");
    await symlink(secret, join(src, "leak"));
    await git(src, "add", ".");
    await git(src, "commit", "-q", "-m", "base");
    base = await git(src, "rev-parse", "HEAD");
    bare = join(dir, "bare.git");
    await git(dir, "clone", "-q", "--bare", src, bare);
    work = await Workspace.open(bare, base, agent);
  });
  after(async () => {
    await work?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps every path inside the checkout and out of .git", async () => {
    for (const path of ["../secret.txt", "/etc/passwd", ".git/config", "a/../../x", ""]) {
      await assert.rejects(work.read(path), { code: "input/invalid" }, path);
      await assert.rejects(work.write(path, "x"), { code: "input/invalid" }, path);
    }
    // A symlink the repository itself holds is not followed, for reading or writing.
    await assert.rejects(work.read("leak"), /symbolic link/);
    await assert.rejects(work.write("leak", "overwritten"), /symbolic link/);
    assert.equal(await readFile(secret, "utf8"), "host secret\n");
  });

  it("bounds what it reads and writes, and replaces exactly one occurrence", async () => {
    await assert.rejects(work.write("big.txt", "x".repeat(MAX_FILE_BYTES + 1)), /more than/);
    await assert.rejects(work.replace("a.txt", "two", "2"), /more than once/);
    await assert.rejects(work.replace("a.txt", "three", "3"), /does not contain/);
    await work.replace("a.txt", "one", "1");
    assert.equal(await work.read("a.txt"), "1 two two\n");
    await work.write("new/dir/b.txt", "b\n");
    assert.deepEqual(await work.search("two"), ["a.txt:1:1 two two"]);
  });

  it("snapshots the tree as one commit on the base, authored by the agent", async () => {
    const commit = await work.snapshot("fix it");
    assert.equal(await git(work.dir, "rev-parse", `${commit}^`), base);
    assert.equal(await git(work.dir, "log", "-1", "--format=%an <%ae>", commit), `fixer <${agent.did}@agent.weft>`);
    assert.equal(await git(work.dir, "show", `${commit}:new/dir/b.txt`), "b");
    assert.ok((await work.pack(commit)).length > 0);
  });
});

describe("the tool protocol", () => {
  it("reads one tool call, bare or fenced, and refuses anything else saying what to fix", () => {
    assert.deepEqual(parseToolCall('Let me look.\n{"tool":"read_file","path":"a.txt"}'), {
      tool: "read_file",
      path: "a.txt",
    });
    assert.deepEqual(parseToolCall('```json\n{"tool":"run_tests"}\n```'), { tool: "run_tests" });
    assert.throws(() => parseToolCall("I think it is fine."), /No JSON object/);
    assert.throws(() => parseToolCall('{"tool":"rm_rf"}'), /Unknown tool "rm_rf"/);
    assert.throws(() => parseToolCall('{"tool":"write_file","path":"a"}'), /needs "content"/);
    assert.throws(() => parseToolCall('{"tool": }'), /does not parse/);
  });
});
