/**
 * The process spawner (peer/process/spawner.ts): commands the peer starts
 * are children of its small helper, not forks of the peer; their stdin and
 * stdout carry every byte both ways with backpressure; exit codes, signals
 * and stderr come back; kill() takes the command's process group; a command
 * that cannot start, a helper that dies mid-run and a peer that dies are
 * each handled; the helper's socket is reachable by its user only. git
 * started by a peer that uses the spawner (the daemon) goes through it.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { ProcessSpawner, SpawnerUnavailableError, useSharedSpawner } from "../../peer/process/spawner.ts";
import { startGit } from "../../peer/repo/git-child.ts";
import { eventually } from "../helpers/nodes.ts";

const env = { PATH: process.env.PATH! };

/** The parent pid of `pid`, from /proc. */
function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
}

/** Whether `pid` is still a live process (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].startsWith("Z");
  } catch {
    return false;
  }
}

/** Everything `stream` gives until it ends. */
async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("the process spawner", () => {
  const spawner = new ProcessSpawner();
  after(() => spawner.stop());

  it("starts a command as its helper's child, never a fork of this process", async () => {
    await spawner.warm();
    const child = await spawner.spawn("sleep", ["30"], { env });
    assert.ok(child.pid !== undefined);
    assert.equal(parentOf(child.pid), spawner.pid);
    assert.notEqual(parentOf(child.pid), process.pid);
    child.kill();
    assert.equal(await child.exited, null, "killed by a signal");
  });

  it("carries every byte both ways, with backpressure", async () => {
    const input = randomBytes(24 * 1024 * 1024);
    const child = await spawner.spawn("cat", [], { env });
    const output = drain(child.stdout);
    // Written in pieces that wait for drain: a stalled reader holds the writer back.
    for (let at = 0; at < input.length; at += 1024 * 1024) {
      if (!child.stdin.write(input.subarray(at, at + 1024 * 1024))) {
        await new Promise((r) => child.stdin.once("drain", r));
      }
    }
    child.stdin.end();
    assert.ok((await output).equals(input));
    assert.equal(await child.exited, 0);
  });

  it("reports the exit code and the tail of stderr, after all of stdout", async () => {
    const child = await spawner.spawn(
      "sh",
      ["-c", "head -c 300000 /dev/zero; i=0; while [ $i -lt 2000 ]; do echo line $i >&2; i=$((i+1)); done; exit 3"],
      { env, stderrTail: 100 },
    );
    child.stdin.end();
    let read = 0;
    child.stdout.on("data", (b: Buffer) => (read += b.length));
    assert.equal(await child.exited, 3);
    assert.equal(read, 300_000, "stdout read to its end before the exit is reported");
    assert.ok(child.stderr().endsWith("line 1999"), child.stderr());
    assert.ok(child.stderr().length <= 100);
  });

  it("lets output nobody reads flow once the command exits, so its exit is still reported", async () => {
    const child = await spawner.spawn("echo", ["unread"], { env });
    assert.equal(await child.exited, 0);
  });

  it("says why a command could not start", async () => {
    const child = await spawner.spawn("/nonexistent/command", [], { env });
    assert.equal(child.pid, undefined);
    assert.equal(await child.exited, -1);
    assert.match(child.stderr(), /ENOENT/);
  });

  it("kills the command's whole process group", async () => {
    const child = await spawner.spawn("sh", ["-c", "sleep 300 & echo $!; wait"], { env });
    const [line] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
    const grandchild = Number(line);
    assert.ok(alive(grandchild));
    child.kill();
    assert.equal(await child.exited, null);
    await eventually(() => !alive(grandchild), 10_000, "the command's own child was killed with it");
  });

  it("keeps its socket where only its user can reach it", async () => {
    await spawner.warm();
    const socket = readFileSync(`/proc/${spawner.pid}/cmdline`, "utf8").split("\0").filter(Boolean).at(-1);
    assert.ok(socket, "the helper's socket path");
    assert.equal(statSync(dirname(socket)).mode & 0o777, 0o700);
  });

  it("kills commands whose helper died, and starts a new helper for the next", async () => {
    await spawner.warm();
    const first = spawner.pid!;
    const child = await spawner.spawn("sleep", ["300"], { env });
    process.kill(first, "SIGKILL");
    assert.equal(await child.exited, -1);
    assert.match(child.stderr(), /spawner exited/);
    await eventually(() => !alive(child.pid!), 10_000, "the orphaned command was killed");
    const next = await spawner.spawn("true", [], { env });
    assert.equal(await next.exited, 0);
    assert.notEqual(spawner.pid, first);
  });

  it("says it is unavailable when its helper cannot start, and does not retry at every spawn", async () => {
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = "/nonexistent/weft-test"; // no directory for the helper's socket
    try {
      const unstartable = new ProcessSpawner();
      await assert.rejects(unstartable.spawn("true", [], { env }), SpawnerUnavailableError);
      process.env.TMPDIR = tmp ?? "/tmp";
      await assert.rejects(unstartable.spawn("true", [], { env }), /could not start a moment ago/);
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
  });

  it("refuses spawns once stopped, so callers start commands some other way", async () => {
    const stopped = new ProcessSpawner();
    await stopped.warm();
    stopped.stop();
    await assert.rejects(stopped.spawn("true", [], { env }), SpawnerUnavailableError);
  });
});

describe("a peer that dies", () => {
  it("takes the commands its spawner still runs with it", async () => {
    // A peer process that starts `sleep` through its spawner, says the pid, and is then killed without a word.
    const script = `
      import { ProcessSpawner } from ${JSON.stringify(new URL("../../peer/process/spawner.ts", import.meta.url).href)};
      const child = await new ProcessSpawner().spawn("sleep", ["300"], { env: { PATH: process.env.PATH } });
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const peer = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const { value } = await createInterface({ input: peer.stdout! })[Symbol.asyncIterator]().next();
    const sleeper = Number(value);
    assert.ok(alive(sleeper));
    peer.kill("SIGKILL");
    await eventually(() => !alive(sleeper), 10_000, "the command died with its peer");
  });
});

describe("git in a peer that uses the spawner", () => {
  it("is started by the helper", async () => {
    const spawner = useSharedSpawner();
    await spawner.warm();
    const git = await startGit(["cat-file", "--batch-check"]);
    assert.ok(git.pid !== undefined);
    assert.equal(parentOf(git.pid), spawner.pid);
    git.stdin.end("0000000000000000000000000000000000000000\n");
    assert.equal((await drain(git.stdout)).toString(), "0000000000000000000000000000000000000000 missing\n");
    assert.equal(await git.exited, 0);
    spawner.stop();
  });

  it("is forked directly once the spawner cannot be had", async () => {
    const git = await startGit(["cat-file", "--batch-check"]);
    assert.equal(parentOf(git.pid!), process.pid);
    git.stdin.end();
    assert.equal(await git.exited, 0);
  });
});
