import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "weft-log-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("durable log storage", () => {
  it("round-trips saves, removes and ranges across reopen", () =>
    withDir(async (dir) => {
      const s = await LogStorageAdapter.open({ dir });
      await s.save(["doc1", "incremental", "a"], new Uint8Array([1]));
      await s.save(["doc1", "snapshot", "b"], new Uint8Array([2, 2]));
      await s.save(["doc2", "snapshot", "c"], new Uint8Array([3]));
      await s.save(["doc1", "incremental", "a"], new Uint8Array([4]));
      await s.remove(["doc1", "snapshot", "b"]);
      await s.save(["doc3", "x"], new Uint8Array([5]));
      await s.removeRange(["doc3"]);
      await s.close();
      const r = await LogStorageAdapter.open({ dir });
      assert.deepEqual(await r.load(["doc1", "incremental", "a"]), new Uint8Array([4]));
      assert.equal(await r.load(["doc1", "snapshot", "b"]), undefined);
      assert.deepEqual((await r.loadRange(["doc1"])).map((c) => c.key), [["doc1", "incremental", "a"]]);
      assert.deepEqual(await r.loadRange(["doc3"]), []);
      assert.equal(r.stats.keys, 2);
      await r.close();
    }));

  it("cuts off a torn last record and keeps everything before it", () =>
    withDir(async (dir) => {
      const s = await LogStorageAdapter.open({ dir });
      for (let i = 0; i < 10; i++) await s.save(["k", String(i)], new Uint8Array(100).fill(i));
      await s.close();
      const size = (await stat(join(dir, "docs.log"))).size;
      // A half-written record: a plausible length, then garbage.
      await appendFile(join(dir, "docs.log"), new Uint8Array([0, 0, 1, 0, 9, 9, 9, 9, 1, 2, 3]));
      const r = await LogStorageAdapter.open({ dir });
      assert.equal(r.stats.keys, 10);
      assert.equal((await stat(join(dir, "docs.log"))).size, size, "the torn tail was truncated");
      await r.save(["k", "after"], new Uint8Array([7]));
      await r.close();
      const again = await LogStorageAdapter.open({ dir });
      assert.deepEqual(await again.load(["k", "after"]), new Uint8Array([7]));
      assert.deepEqual(await again.load(["k", "9"]), new Uint8Array(100).fill(9));
      await again.close();
    }));

  it("detects a flipped byte and keeps the records before it", () =>
    withDir(async (dir) => {
      const s = await LogStorageAdapter.open({ dir });
      await s.save(["a"], new Uint8Array([1, 1, 1]));
      await s.save(["b"], new Uint8Array([2, 2, 2]));
      await s.close();
      const path = join(dir, "docs.log");
      const bytes = new Uint8Array(await readFile(path));
      bytes[bytes.length - 1] ^= 0xff;
      const { writeFile } = await import("node:fs/promises");
      await writeFile(path, bytes);
      const r = await LogStorageAdapter.open({ dir });
      assert.deepEqual(await r.load(["a"]), new Uint8Array([1, 1, 1]));
      assert.equal(await r.load(["b"]), undefined);
      await r.close();
    }));

  it("compacts without losing live data", () =>
    withDir(async (dir) => {
      const s = await LogStorageAdapter.open({ dir, compactAt: 64 * 1024 });
      for (let i = 0; i < 400; i++) await s.save(["hot"], new Uint8Array(1000).fill(i % 256));
      await s.save(["cold"], new Uint8Array([42]));
      assert.ok(s.stats.fileBytes < 64 * 1024 + 2000, `compacted: ${JSON.stringify(s.stats)}`);
      await s.close();
      const r = await LogStorageAdapter.open({ dir });
      assert.deepEqual(await r.load(["hot"]), new Uint8Array(1000).fill(399 % 256));
      assert.deepEqual(await r.load(["cold"]), new Uint8Array([42]));
      await r.close();
    }));

  it("kill -9 during a burst loses nothing that was acknowledged", () =>
    withDir(async (dir) => {
      const child = spawn(process.execPath, [new URL("./log-storage-writer.ts", import.meta.url).pathname, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const acked: number[] = [];
      let buf = "";
      await new Promise<void>((resolve) => {
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split("\n");
          buf = lines.pop() ?? "";
          for (const l of lines) if (l.startsWith("ack ")) acked.push(Number(l.slice(4)));
          if (acked.length >= 300) {
            child.kill("SIGKILL");
            resolve();
          }
        });
        child.on("exit", () => resolve());
      });
      await new Promise((r) => child.once("exit", r).once("close", r));
      assert.ok(acked.length >= 300, `the writer acknowledged ${acked.length} writes before it was killed`);
      const r = await LogStorageAdapter.open({ dir });
      const missing: number[] = [];
      for (const i of acked) {
        const v = await r.load(["burst", String(i)]);
        if (!v || v[0] !== i % 256) missing.push(i);
      }
      assert.deepEqual(missing, [], "every acknowledged write survived");
      await r.close();
    }));
});
