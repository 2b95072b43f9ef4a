/**
 * Git objects between peers over `/weft/git/1`, with real libp2p nodes and
 * real git: members fetch a repository (a second fetch moves only what is
 * new); a non-member and a member of another space get nothing — refused
 * before the repository is resolved or git runs — and are asked nothing;
 * malformed and oversized openings are refused; a peer that stalls
 * mid-pack is cut off by the idle limit (on either side); aborting a
 * fetch kills its git; a pack that leaves an object out is refused.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stream } from "@libp2p/interface";
import { encodeGitAnswer, encodeGitRequest, GIT_PROTOCOL, MAX_GIT_ANSWER_BYTES, readGitAnswer } from "#protocol/sync";
import { peerIdFromDid } from "#protocol/node";
import type { Space } from "#protocol/space";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";
import { addCommits, git, initBare } from "../helpers/git-repos.ts";
import { fetchGit, type GitServer, serveGit } from "../../peer/repo/git-transport.ts";
import { prepareStream, readOpening } from "../../peer/repo/git-stream.ts";

/** Open a raw git stream from `from` to `to` and send `bytes` as its opening; returns the stream. */
async function rawStream(from: TestNode, to: TestNode, bytes: Uint8Array): Promise<Stream> {
  const stream = await from.node.libp2p!.dialProtocol(peerIdFromDid(to.node.did), GIT_PROTOCOL);
  prepareStream(stream);
  stream.send(bytes);
  return stream;
}

/** The server's answer to a raw opening: undefined for "go", else the refusal's code. */
async function answerTo(stream: Stream): Promise<string | undefined> {
  const { body } = await readOpening(stream, MAX_GIT_ANSWER_BYTES, 10_000);
  try {
    readGitAnswer(body);
    return undefined;
  } catch (e) {
    return (e as { code: string }).code;
  }
}

/**
 * As a member that asks for everything and then stops reading: a raw stream, "go", git protocol v2's
 * fetch command (want `head`, done), the stream paused.
 */
async function stalledFetch(from: TestNode, to: TestNode, space: string, repo: string, head: string): Promise<Stream> {
  const stream = await rawStream(from, to, encodeGitRequest({ space, repo, wants: [head] }));
  assert.equal(await answerTo(stream), undefined, "go");
  const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, "0")}${line}`;
  stream.pause();
  stream.send(new TextEncoder().encode(`${pkt("command=fetch\n")}0001${pkt(`want ${head}\n`)}${pkt("done\n")}0000`));
  return stream;
}

/** How many git requests `t` refused. */
function gitRefusals(t: TestNode): number {
  return t.node.diagnostics.refusals({ kind: "sync" }).filter((r) => r.what.startsWith("git")).length;
}

/** Processes whose command line mentions `needle` (a fetch's git names the repository it fetches into). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle)) pids.push(Number(pid));
    } catch {
      // gone already
    }
  }
  return pids;
}

describe("git objects between peers", () => {
  let a: TestNode, b: TestNode, stranger: TestNode, other: TestNode;
  let space: Space;
  let dir: string;
  let source: string;
  /** A repository whose pack outgrows every buffer on the way (yamux window, pipes). */
  let big: string;
  let server: GitServer;
  const resolved: string[] = [];

  before(async () => {
    [a, b, stranger, other] = await Promise.all([libp2pNode(), libp2pNode(), libp2pNode(), libp2pNode()]);
    space = await a.node.createSpace("code");
    const elsewhere = await a.node.createSpace("elsewhere");
    await mesh([a, b, stranger, other]);
    await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), { signal: AbortSignal.timeout(20_000) });
    await other.node.join(await a.node.invite(elsewhere.id, { audience: other.node.did }), {
      signal: AbortSignal.timeout(20_000),
    });
    await eventually(() => a.node.provedSpace(b.node.did, space.id), 20_000, "b proved the space to a");
    await eventually(() => b.node.provedSpace(a.node.did, space.id), 20_000, "a proved the space to b");
    dir = mkdtempSync(join(tmpdir(), "weft-git-test-"));
    source = initBare(join(dir, "source.git"));
    await addCommits(source, 200, 4096);
    big = initBare(join(dir, "big.git"));
    await addCommits(big, 100, 64 * 1024);
    server = await serveGit(a.node, {
      resolve: (s, repo) => {
        resolved.push(`${s}/${repo}`);
        return s !== space.id ? undefined : repo === "app" ? source : repo === "big" ? big : undefined;
      },
      limits: { idleMs: 1500 },
    });
  });

  after(async () => {
    await server?.stop();
    await Promise.all([a, b, stranger, other].map((x) => x?.node.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("a member fetches a repository, and a second fetch moves only what is new", async () => {
    const into = initBare(join(dir, "b-1.git"));
    const head = git(source, "rev-parse", "refs/heads/main");
    const first = await fetchGit(b.node, { peer: a.node.did, space: space.id, repo: "app", wants: [head], into });
    assert.deepEqual(first.fetched, [head]);
    assert.equal(git(into, "rev-list", "--count", head), "200");
    git(into, "fsck", "--strict", "--no-dangling");
    assert.ok(first.bytes > 200 * 4096, `the first fetch moved the whole history (${first.bytes} bytes)`);

    // The caller records what it fetched in its refs: those are the haves of the next fetch.
    git(into, "update-ref", "refs/heads/main", head);
    const next = await addCommits(source, 3, 4096);
    const second = await fetchGit(b.node, { peer: a.node.did, space: space.id, repo: "app", wants: [next], into });
    assert.deepEqual(second.fetched, [next]);
    assert.equal(git(into, "rev-list", "--count", next), "203");
    assert.ok(second.bytes > 3 * 4096, `the new objects moved (${second.bytes} bytes)`);
    assert.ok(
      second.bytes < 3 * 4096 + 16 * 1024,
      `only the new objects moved, not the 800 KB before them (${second.bytes} bytes)`,
    );

    // Wants already here: nothing is asked at all (the server resolves a repository for every request it serves;
    // its count of requests running was no witness, as the second fetch's may still be winding down there).
    const asked = resolved.length;
    assert.deepEqual(await fetchGit(b.node, { peer: a.node.did, space: space.id, repo: "app", wants: [next], into }), {
      fetched: [],
      bytes: 0,
    });
    assert.equal(resolved.length, asked);
  });

  it("a peer that has not proved the space is asked nothing", async () => {
    const into = initBare(join(dir, "b-2.git"));
    const head = git(source, "rev-parse", "refs/heads/main");
    const refusalsBefore = gitRefusals(a);
    for (const peer of [stranger.node.did, other.node.did]) {
      await assert.rejects(
        fetchGit(b.node, { peer, space: space.id, repo: "app", wants: [head], into }),
        { code: "sync/refused" },
      );
    }
    assert.equal(gitRefusals(a), refusalsBefore, "the server heard nothing");
  });

  for (const who of ["stranger", "other"] as const) {
    it(`a ${who === "stranger" ? "non-member" : "member of another space"} is refused before git runs`, async () => {
      const asker = who === "stranger" ? stranger : other;
      const head = git(source, "rev-parse", "refs/heads/main");
      const servedBefore = a.node.diagnostics.counter("git.served");
      const resolvedBefore = resolved.length;
      const stream = await rawStream(asker, a, encodeGitRequest({ space: space.id, repo: "app", wants: [head] }));
      assert.equal(await answerTo(stream), "sync/refused");
      assert.equal(resolved.length, resolvedBefore, "the repository was not even resolved");
      assert.equal(a.node.diagnostics.counter("git.served"), servedBefore, "git never ran");
      // And through the API, which checks on its own side first: the asker never reaches the server.
      await assert.rejects(
        fetchGit(asker.node, {
          peer: a.node.did,
          space: space.id,
          repo: "app",
          wants: [head],
          into: initBare(join(dir, `${who}.git`)),
        }),
        { code: "sync/refused" },
      );
    });
  }

  it("malformed and oversized openings are refused before anything else is read", async () => {
    const resolvedBefore = resolved.length;
    const servedBefore = a.node.diagnostics.counter("git.served");
    // Not CBOR.
    assert.equal(await answerTo(await rawStream(b, a, Uint8Array.from([3, 0xff, 0xfe, 0xfd]))), "sync/protocol");
    // A length prefix past the limit: refused on the prefix alone.
    assert.equal(await answerTo(await rawStream(b, a, Uint8Array.from([0xff, 0xff, 0x7f]))), "input/too-large");
    // Well-formed CBOR, wrong shape: an unknown field, a want that is no object id, a path in the name.
    const cbor = (await import("cborg")).encode;
    const frame = (value: unknown) => {
      const body = cbor(value);
      return Uint8Array.from([body.length & 0x7f | 0x80, body.length >> 7, ...body]);
    };
    const head = git(source, "rev-parse", "refs/heads/main");
    for (
      const bad of [
        { space: space.id, repo: "app", wants: [head], extra: 1 },
        { space: space.id, repo: "app", wants: ["HEAD"] },
        { space: space.id, repo: "../app", wants: [head] },
        { space: space.id, repo: "app", wants: [] },
      ]
    ) {
      assert.equal(await answerTo(await rawStream(b, a, frame(bad))), "sync/protocol", JSON.stringify(bad));
    }
    assert.equal(resolved.length, resolvedBefore);
    assert.equal(a.node.diagnostics.counter("git.served"), servedBefore);
    // The caller's own request is checked the same way before it is sent.
    await assert.rejects(
      fetchGit(b.node, { peer: a.node.did, space: space.id, repo: "app", wants: ["main"], into: source }),
      { code: "input/invalid" },
    );
  });

  it("a repository or commit the peer lacks is refused as not found", async () => {
    const into = initBare(join(dir, "b-3.git"));
    const head = git(source, "rev-parse", "refs/heads/main");
    await assert.rejects(
      fetchGit(b.node, { peer: a.node.did, space: space.id, repo: "nope", wants: [head], into }),
      { code: "git/not-found" },
    );
    await assert.rejects(
      fetchGit(b.node, { peer: a.node.did, space: space.id, repo: "app", wants: ["0".repeat(40)], into }),
      { code: "git/not-found" },
    );
  });

  it("a server whose asker stops reading mid-pack kills its upload-pack at the idle limit", async () => {
    const head = git(big, "rev-parse", "refs/heads/main");
    const stream = await stalledFetch(b, a, space.id, "big", head);
    const started = Date.now();
    await eventually(() => a.node.diagnostics.counter("git.cut-off.git/stalled") === 1, 20_000, "the cut-off");
    assert.ok(Date.now() - started >= 900, "not before the idle limit");
    await eventually(() => server.running === 0, 10_000, "upload-pack gone");
    await eventually(() => stream.status !== "open", 10_000, "the stream closed");
  });

  describe("against a peer that stalls mid-pack", () => {
    before(async () => {
      // b plays a peer that starts a real pack and stops sending after 64 KiB.
      await b.node.libp2p!.handle(GIT_PROTOCOL, (stream) => {
        prepareStream(stream);
        void readOpening(stream, 32 * 1024, 10_000).then(({ rest }) => {
          stream.send(encodeGitAnswer({ ok: true }));
          const pack = spawn("git", ["upload-pack", "--strict", big], {
            env: { ...process.env, GIT_PROTOCOL: "version=2" },
            stdio: ["pipe", "pipe", "ignore"],
          });
          if (rest.length > 0) pack.stdin.write(rest);
          stream.addEventListener("message", (e) => pack.stdin.write(e.data.subarray()));
          stream.addEventListener("close", () => pack.kill("SIGKILL"));
          let sent = 0;
          pack.stdout.on("data", (chunk: Buffer) => {
            if (sent >= 64 * 1024) return pack.stdout.pause();
            sent += chunk.length;
            stream.send(chunk);
          });
        });
      }, { force: true });
    });

    after(async () => {
      await b.node.libp2p!.unhandle(GIT_PROTOCOL);
    });

    it("the fetch is cut off at its idle limit, and its git is killed", async () => {
      const head = git(big, "rev-parse", "refs/heads/main");
      const into = initBare(join(dir, "a-stalled.git"));
      const started = Date.now();
      await assert.rejects(
        fetchGit(a.node, {
          peer: b.node.did,
          space: space.id,
          repo: "big",
          wants: [head],
          into,
          limits: { idleMs: 1000 },
        }),
        { code: "git/stalled" },
      );
      assert.ok(Date.now() - started >= 900, "not before the idle limit");
      await eventually(() => processesMentioning(into).length === 0, 10_000, "git gone");
    });

    it("aborting the fetch kills its git at once", async () => {
      const head = git(big, "rev-parse", "refs/heads/main");
      const into = initBare(join(dir, "a-aborted.git"));
      const abort = new AbortController();
      const fetching = fetchGit(a.node, {
        peer: b.node.did,
        space: space.id,
        repo: "big",
        wants: [head],
        into,
        signal: abort.signal,
      });
      await eventually(() => processesMentioning(into).length > 0, 10_000, "git running");
      abort.abort();
      await assert.rejects(fetching, { code: "git/aborted" });
      await eventually(() => processesMentioning(into).length === 0, 5_000, "git gone");
    });
  });

  describe("against a peer that leaves an object out of the pack", () => {
    before(async () => {
      // b plays a peer that answers a fetch of source's head with that commit alone: no tree, no blobs.
      const head = git(source, "rev-parse", "refs/heads/main");
      const lone = spawnSync("git", ["-C", source, "pack-objects", "--stdout"], { input: `${head}\n` }).stdout;
      const pkt = (payload: Uint8Array) => {
        const header = new TextEncoder().encode((payload.length + 4).toString(16).padStart(4, "0"));
        return Buffer.concat([header, payload]);
      };
      const line = (text: string) => pkt(new TextEncoder().encode(text));
      await b.node.libp2p!.handle(GIT_PROTOCOL, (stream) => {
        prepareStream(stream);
        void readOpening(stream, 32 * 1024, 10_000).then(() => {
          stream.send(encodeGitAnswer({ ok: true }));
          stream.send(Buffer.concat([line("version 2\n"), line("fetch=shallow\n"), Buffer.from("0000")]));
          stream.addEventListener("message", () => {
            const bands = [];
            for (let i = 0; i < lone.length; i += 65515) {
              bands.push(pkt(Buffer.concat([Buffer.of(1), lone.subarray(i, i + 65515)])));
            }
            stream.send(Buffer.concat([line("packfile\n"), ...bands, Buffer.from("0000")]));
          }, { once: true });
        });
      }, { force: true });
    });

    after(async () => {
      await b.node.libp2p!.unhandle(GIT_PROTOCOL);
    });

    it("is refused: index-pack finds the commit's tree nowhere, and the repository is left as it was", async () => {
      const head = git(source, "rev-parse", "refs/heads/main");
      const into = initBare(join(dir, "a-incomplete.git"));
      await assert.rejects(
        fetchGit(a.node, { peer: b.node.did, space: space.id, repo: "app", wants: [head], into }),
        (e: { code?: string; message?: string }) =>
          e.code === "git/bad-pack" && /did not receive expected object/.test(e.message!),
      );
      assert.equal(git(into, "count-objects", "-v").match(/^count: (\d+)/m)![1], "0");
      assert.deepEqual(readdirSync(join(into, "objects/pack")).filter((f) => f.endsWith(".pack")), []);
    });
  });
});

describe("a git server's limits on who and how many", () => {
  it("tells an asker past the concurrency limit to retry, and cuts off a member revoked mid-transfer", async () => {
    const [server, member] = await Promise.all([libp2pNode(), libp2pNode()]);
    const dir = mkdtempSync(join(tmpdir(), "weft-git-test-"));
    let serving: GitServer | undefined;
    try {
      const space = await server.node.createSpace("code");
      await mesh([server, member]);
      await member.node.join(await server.node.invite(space.id, { audience: member.node.did }), {
        signal: AbortSignal.timeout(20_000),
      });
      await eventually(() => server.node.provedSpace(member.node.did, space.id), 20_000, "the member proved the space");
      const repo = initBare(join(dir, "big.git"));
      const head = await addCommits(repo, 60, 64 * 1024);
      serving = await serveGit(server.node, { resolve: () => repo, maxConcurrent: 1 });

      const first = await stalledFetch(member, server, space.id, "big", head);
      await assert.rejects(
        fetchGit(member.node, {
          peer: server.node.did,
          space: space.id,
          repo: "big",
          wants: [head],
          into: initBare(join(dir, "second.git")),
        }),
        { code: "git/busy" },
      );

      const toMember = [...space.authority.delegations].find((d) => d.aud === member.node.did)!;
      await space.revoke(toMember.cid.toString());
      await eventually(() => server.node.diagnostics.counter("git.cut-off.sync/refused") === 1, 10_000, "the cut-off");
      await eventually(() => serving!.running === 0, 10_000, "upload-pack gone");
      await eventually(() => first.status !== "open", 10_000, "the stream closed");
    } finally {
      await serving?.stop();
      await Promise.all([server, member].map((x) => x.node.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
