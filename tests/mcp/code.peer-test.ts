/**
 * `weft mcp`'s code tools, driven by the MCP SDK's client over stdio and
 * streamable HTTP against a real peer with a real repository (pushed with
 * plain git through git-remote-weft): files listed, read a page at a time
 * and searched at a branch or commit, bounded; patches listed and read
 * with their checks; a patch proposed and revised as the client's own
 * principal. A principal without the right is refused and nothing changes;
 * bad paths and refs are refused before git sees them.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { helperBin, weftGit } from "../helpers/weft-git.ts";
import type { Patch } from "../../protocol/patch/state.ts";
import { CLI, principalFiles } from "./principal-files.ts";
import { call, connectHttp, connectStdio, type Served, serveHttp, stopServed } from "./transports.ts";

const READ = "/weft/space/read";
const PROPOSE = "/weft/patch/propose";
const run = promisify(execFile);

describe("weft mcp: repository files and patches", () => {
  let d: TestDaemon;
  let dir: string, bin: string, work: string;
  let space: string;
  let main: string, feature: string, second: string, unpushed: string;
  const clients: Client[] = [];
  const served: Served[] = [];

  let git: ReturnType<typeof weftGit>;
  const patches = async () =>
    (await d.client.get<{ patches: Patch[] }>(`/v1/spaces/${encodeURIComponent(space)}/patches`)).patches;

  before(async () => {
    d = await testDaemon();
    dir = await mkdtemp(join(tmpdir(), "weft-mcp-code-"));
    bin = await helperBin(dir);
    work = join(dir, "work");
    git = weftGit(d.home, bin, work);
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
    await run(process.execPath, [CLI, "repo", "create", "demo", "--space", space], {
      env: { ...process.env, WEFT_HOME: d.home },
    });
    await run("git", ["init", "-q", "-b", "main", work]);
    await mkdir(join(work, "src"));
    await writeFile(join(work, "README.md"), "# demo\n\nThe Needle is here.\n");
    await writeFile(join(work, "src", "a.ts"), "export const a = 1;\n// find the needle\nexport const b = 2;\n");
    await writeFile(join(work, "src", "long.txt"), Array.from({ length: 3000 }, (_, i) => `line ${i + 1}`).join("\n"));
    await writeFile(join(work, "src", "blob.bin"), new Uint8Array([1, 2, 0, 3, 4]));
    await git("add", ".");
    await git("commit", "-q", "-m", "base");
    main = await git("rev-parse", "HEAD");
    await git("push", "-q", `weft::${space}/demo`, "HEAD:refs/heads/main");
    await writeFile(join(work, "src", "a.ts"), "export const a = 3;\n// find the needle\nexport const b = 2;\n");
    await git("commit", "-q", "-am", "a is 3");
    feature = await git("rev-parse", "HEAD");
    await git("push", "-q", `weft::${space}/demo`, "HEAD:refs/heads/feature");
    await writeFile(join(work, "src", "a.ts"), "export const a = 4;\n");
    await git("commit", "-q", "-am", "a is 4");
    second = await git("rev-parse", "HEAD");
    await git("push", "-q", `weft::${space}/demo`, "HEAD:refs/heads/feature");
    await writeFile(join(work, "src", "a.ts"), "export const a = 5;\n");
    await git("commit", "-q", "-am", "never pushed");
    unpushed = await git("rev-parse", "HEAD");
    // The peer's copy follows the refs the space agreed on.
    await eventually(
      async () => {
        const r = await d.client.get<{ local: Record<string, string> }>(
          `/v1/spaces/${encodeURIComponent(space)}/repos/demo`,
        );
        return r.local["refs/heads/main"] === main && r.local["refs/heads/feature"] === second;
      },
      20_000,
      "the peer's bare copy follows the pushes",
    );
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const s of served) await stopServed(s);
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const stdio = async (name: string, commands: string[]) => {
    const p = await principalFiles(d, space, dir, name, commands);
    const client = await connectStdio(d, p.args);
    clients.push(client);
    return { p, client };
  };

  it("lists, reads a page at a time and searches files at a branch or a commit", async () => {
    const { client } = await stdio("reader", [READ]);
    const repos = await call(client, "list_repos", {});
    assert.equal(repos.error, false, repos.text);
    assert.deepEqual(repos.value.repos[0].refs, { "refs/heads/feature": second, "refs/heads/main": main });

    const root = await call(client, "list_files", { repo: "demo" });
    assert.equal(root.error, false, root.text);
    assert.equal(root.value.commit, main);
    assert.deepEqual(root.value.entries.map((e: { path: string; type: string }) => `${e.type} ${e.path}`), [
      "file README.md",
      "dir src",
    ]);
    const src = await call(client, "list_files", { repo: "demo", path: "src", limit: 2 });
    assert.deepEqual(src.value.entries.map((e: { name: string }) => e.name), ["a.ts", "blob.bin"]);
    assert.equal(src.value.nextCursor, "2");
    const rest = await call(client, "list_files", { repo: "demo", path: "src", cursor: "2", limit: 2 });
    assert.deepEqual(rest.value.entries.map((e: { name: string }) => e.name), ["long.txt"]);
    assert.equal(rest.value.nextCursor, undefined);

    const a = await call(client, "read_file", { repo: "demo", path: "src/a.ts" });
    assert.deepEqual(a.value.lines, ["export const a = 1;", "// find the needle", "export const b = 2;"]);
    assert.equal(
      (await call(client, "read_file", { repo: "demo", path: "src/a.ts", ref: "feature" })).value.lines[0],
      "export const a = 4;",
    );
    const atCommit = await call(client, "read_file", { repo: "demo", path: "src/a.ts", ref: feature });
    assert.equal(atCommit.value.commit, feature);
    assert.equal(atCommit.value.lines[0], "export const a = 3;");

    const page1 = await call(client, "read_file", { repo: "demo", path: "src/long.txt", limit: 1000 });
    assert.equal(page1.value.lines.length, 1000);
    assert.equal(page1.value.next, 1001);
    const last = await call(client, "read_file", { repo: "demo", path: "src/long.txt", from: 2001, limit: 2000 });
    assert.equal(last.value.lines.length, 1000);
    assert.equal(last.value.lines.at(-1), "line 3000");
    assert.equal(last.value.next, undefined);
    const binary = await call(client, "read_file", { repo: "demo", path: "src/blob.bin" });
    assert.equal(binary.value.binary, true);
    assert.deepEqual(binary.value.lines, []);

    const found = await call(client, "search_files", { repo: "demo", text: "needle" });
    assert.deepEqual(found.value.matches, [{ path: "src/a.ts", line: 2, text: "// find the needle" }]);
    const anyCase = await call(client, "search_files", { repo: "demo", text: "needle", ignoreCase: true, limit: 1 });
    assert.deepEqual(anyCase.value.matches, [{ path: "README.md", line: 3, text: "The Needle is here." }]);
    assert.equal(anyCase.value.nextCursor, "1");
    const next = await call(client, "search_files", { repo: "demo", text: "needle", ignoreCase: true, cursor: "1" });
    assert.deepEqual(next.value.matches.map((m: { path: string }) => m.path), ["src/a.ts"]);
    const under = await call(client, "search_files", { repo: "demo", text: "needle", ignoreCase: true, under: "src" });
    assert.deepEqual(under.value.matches.map((m: { path: string }) => m.path), ["src/a.ts"]);
    // A fixed string, not a pattern: "." matches only a dot.
    assert.deepEqual((await call(client, "search_files", { repo: "demo", text: "n.edle" })).value.matches, []);
  });

  it("refuses paths outside the repository, revision syntax, unknown refs and commits it does not hold", async () => {
    const { client } = await stdio("prober", [READ]);
    for (const path of ["../etc/passwd", "src/../README.md", "/README.md", "src//a.ts"]) {
      const r = await call(client, "read_file", { repo: "demo", path });
      assert.equal(r.error, true, path);
      assert.match(r.text, /^input\/invalid: /, path);
    }
    for (const ref of ["main~1", "HEAD@{1}", ":/needle", "--output=/tmp/x"]) {
      assert.equal((await call(client, "read_file", { repo: "demo", path: "src/a.ts", ref })).error, true, ref);
    }
    // The peer's own checks, for clients that are not this MCP server.
    const file = `/v1/spaces/${encodeURIComponent(space)}/repos/demo/file`;
    for (
      const q of ["path=src/a.ts&ref=main~1", "path=src/a.ts&ref=-p", "path=../../etc/passwd", "path=a&limit=99999"]
    ) {
      await assert.rejects(d.client.get(`${file}?${q}`), (e: { code: string }) => e.code === "input/invalid", q);
    }
    const unknown = await call(client, "list_files", { repo: "demo", ref: "nope" });
    assert.match(unknown.text, /^not-found: demo has no ref nope/);
    const missing = await call(client, "read_file", { repo: "demo", path: "src/a.ts", ref: unpushed });
    assert.match(missing.text, /^git\/not-found: this peer holds no commit/);
    assert.match((await call(client, "read_file", { repo: "demo", path: "src/none.ts" })).text, /^git\/not-found/);
    assert.match((await call(client, "read_file", { repo: "demo", path: "src" })).text, /is a directory/);
  });

  it("a principal holding only read is refused a proposal, and no patch is made", async () => {
    const { client } = await stdio("watcher", [READ]);
    const r = await call(client, "propose_patch", { repo: "demo", title: "a is 4", head: "feature" });
    assert.equal(r.error, true);
    assert.match(r.text, /^(cap|ucan)\/[a-z-]+: /);
    assert.deepEqual(await patches(), []);
  });

  it("a principal holding propose proposes and revises as itself, reads the patch with its checks", async () => {
    const { p, client } = await stdio("agent", [READ, PROPOSE]);
    const notHeld = await call(client, "propose_patch", { repo: "demo", title: "ghost", head: unpushed });
    assert.match(notHeld.text, /^git\/not-found: /);
    assert.deepEqual(await patches(), [], "a head the peer does not hold makes no patch");

    const proposed = await call(client, "propose_patch", {
      repo: "demo",
      title: "a is 3",
      head: feature,
      description: "three is better",
    });
    assert.equal(proposed.error, false, proposed.text);
    assert.equal(proposed.value.author, p.did);
    assert.equal(proposed.value.target, "refs/heads/main");
    assert.deepEqual(
      proposed.value.revisions.map((r: { base: string; head: string }) => [r.base, r.head]),
      [[main, feature]],
    );
    const id = proposed.value.id as string;

    const revised = await call(client, "revise_patch", { patch: id, head: "feature" });
    assert.equal(revised.error, false, revised.text);
    assert.equal(revised.value.revisionCount, 2);
    assert.equal(revised.value.revisions.at(-1).head, second);

    const read = await call(client, "read_patch", { patch: id });
    assert.equal(read.value.status, "open");
    assert.equal(read.value.readiness.head, second);
    assert.equal(read.value.readiness.mergeable, read.value.readiness.blockers.length === 0);
    assert.ok(Array.isArray(read.value.readiness.checks));
    const listed = await call(client, "list_patches", { status: "open" });
    assert.deepEqual(listed.value.patches.map((x: { id: string }) => x.id), [id]);
    assert.equal(listed.value.patches[0].head, second);
  });

  it("over streamable HTTP: reads files, and a proposal without the right is refused", async () => {
    const s = await serveHttp(d);
    served.push(s);
    const client = await connectHttp(s, [READ], "http-reader");
    clients.push(client);
    const a = await call(client, "read_file", { repo: "demo", path: "README.md" });
    assert.deepEqual(a.value.lines, ["# demo", "", "The Needle is here."]);
    const before = (await patches()).length;
    const r = await call(client, "propose_patch", { repo: "demo", title: "not mine", head: "feature" });
    assert.equal(r.error, true);
    assert.equal((await patches()).length, before);
  });
});
