import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createNode } from "../../protocol/node/node.ts";
import { fileKeystore } from "../../peer/keystore/file-keystore.ts";
import { loadOrCreate } from "../../protocol/identity/keystore.ts";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";
import { dial, eventually, libp2pNode, stateDigest } from "../helpers/nodes.ts";
import { generateSeed, signerFromSeed } from "../../protocol/identity/ed25519.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "weft-node-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openNode(dir: string) {
  const keystore = fileKeystore({ dir: join(dir, "keys") });
  const { signer } = await loadOrCreate(keystore, "node");
  const storage = await LogStorageAdapter.open({ dir: join(dir, "docs") });
  return { node: await createNode({ signer, keystore, storage }), storage };
}

describe("persistence", () => {
  it("a restarted node resumes its spaces and tasks with nothing lost", () =>
    withDir(async (dir) => {
      const first = await openNode(dir);
      const space = await first.node.createSpace("durable");
      const created = [];
      for (let i = 0; i < 20; i++) created.push(await space.createTask({ title: `t${i}`, labels: ["p"] }));
      await space.claim(created[0].id);
      await space.act("comment", { task: created[1].id, body: "still here" });
      const digest = stateDigest(space);
      await first.node.stop();
      await first.storage.close();

      const second = await openNode(dir);
      const again = second.node.space(space.id);
      assert.ok(again, "the space is reopened");
      assert.equal(again.name, "durable");
      assert.equal(stateDigest(again), digest);
      // And it keeps working: a new task after restart, synced to a fresh member.
      await again.createTask({ title: "after restart" });
      await second.node.stop();
      await second.storage.close();
    }));

  it("a restarted peer re-syncs with a member it was away from", () =>
    withDir(async (dir) => {
      const keystore = fileKeystore({ dir: join(dir, "keys") });
      const a = await libp2pNode();
      const space = await a.node.createSpace("resync");
      const seed = generateSeed();
      const bSigner = await signerFromSeed(seed);
      const invite = await a.node.invite(space.id, { audience: bSigner.did });
      let storage = await LogStorageAdapter.open({ dir: join(dir, "b") });
      let b = await libp2pNode({ seed: seed, storage, keystore });
      await dial(b, a);
      let joined = await b.node.join(invite, { signal: AbortSignal.timeout(10_000) });
      const t1 = await space.createTask({ title: "before restart" });
      await eventually(() => joined.task(t1.id), 10_000, "t1 on b");
      await b.node.stop();
      await storage.close();
      const t2 = await space.createTask({ title: "while b was away" });
      storage = await LogStorageAdapter.open({ dir: join(dir, "b") });
      b = await libp2pNode({ seed: seed, storage, keystore });
      joined = b.node.space(space.id)!;
      assert.ok(joined.task(t1.id), "t1 survived b's restart");
      await dial(b, a);
      await eventually(() => joined.task(t2.id), 10_000, "t2 reaches b after restart");
      await eventually(() => stateDigest(joined) === stateDigest(space), 10_000, "identical");
      await b.node.stop();
      await storage.close();
      await a.node.stop();
    }));

  it("kill -9 during a burst of task creation loses nothing that was acknowledged", () =>
    withDir(async (dir) => {
      const child = spawn(process.execPath, [new URL("./burst-writer.ts", import.meta.url).pathname, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const acked: string[] = [];
      let buf = "";
      await new Promise<void>((resolve) => {
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split("\n");
          buf = lines.pop() ?? "";
          for (const l of lines) if (l.startsWith("ack ")) acked.push(l.slice(4));
          if (acked.length >= 60 && child.exitCode === null) {
            child.kill("SIGKILL");
            resolve();
          }
        });
        child.on("exit", () => resolve());
      });
      await new Promise((
        r,
      ) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r)));
      assert.ok(acked.length >= 60, `acknowledged ${acked.length} before the kill`);
      const { node, storage } = await openNode(dir);
      const space = node.spaces()[0];
      assert.ok(space, "the space survived");
      const missing = acked.filter((id) => !space.task(id));
      assert.deepEqual(missing, [], `all ${acked.length} acknowledged tasks survived`);
      await node.stop();
      await storage.close();
    }));
});
