/**
 * WEFT_HOME holds the node's private key, so a peer keeps it private: a
 * home the user created 0755 is tightened to 0700 (and the peer says so),
 * and one the peer cannot tighten (another user's) makes it refuse to start
 * with the reason, rather than run with its key readable by others.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import process from "node:process";
import { startPeer, stopPeer } from "../helpers/peer-process.ts";

const run = promisify(execFile);
const MAIN = new URL("../../peer/main.ts", import.meta.url).pathname;

it("a home created 0755 is made 0700 before the peer writes its key", async () => {
  const home = await mkdtemp(join(tmpdir(), "weft-home-"));
  await chmod(home, 0o755);
  const peer = await startPeer({}, home);
  try {
    assert.equal((await stat(home)).mode & 0o777, 0o700);
    assert.equal((await stat(join(home, "keys", "node.json"))).mode & 0o777, 0o600);
    assert.match(peer.out, /made it private/);
  } finally {
    await stopPeer(peer);
  }
});

it("a world-readable home the peer cannot tighten makes it refuse to start, saying why", {
  skip: process.getuid?.() !== 0 && "needs root to give the directory to another user",
}, async () => {
  const home = await mkdtemp(join(tmpdir(), "weft-home-"));
  try {
    await chmod(home, 0o755);
    await chown(home, 65534, 65534); // nobody's: this peer does not own it
    await assert.rejects(
      run(process.execPath, [MAIN], {
        env: { ...process.env, WEFT_HOME: home, WEFT_HTTP_PORT: "0", WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0" },
        timeout: 60_000,
      }),
      (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 2);
        assert.match(e.stderr, /is open to other users \(mode 755\) and belongs to uid 65534/);
        assert.match(e.stderr, /chmod 700/);
        return true;
      },
    );
    assert.equal((await stat(home)).mode & 0o777, 0o755, "left as it was");
    await assert.rejects(stat(join(home, "keys")), { code: "ENOENT" }, "no key was written there");
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
