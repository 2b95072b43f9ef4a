import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileKeystore } from "../../peer/keystore/file-keystore.ts";
import { loadOrCreate } from "../../protocol/identity/keystore.ts";
import { defaultVerifier } from "../../protocol/identity/index.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "weft-keys-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("file keystore", () => {
  it("creates a 0600 key once and loads the same identity afterwards", () =>
    withDir(async (dir) => {
      const ks = fileKeystore({ dir: join(dir, "keys") });
      const first = await loadOrCreate(ks, "node");
      assert.equal(first.created, true);
      const again = await loadOrCreate(fileKeystore({ dir: join(dir, "keys") }), "node");
      assert.equal(again.created, false);
      assert.equal(again.signer.did, first.signer.did);
      const msg = new TextEncoder().encode("m");
      assert.ok(await (await defaultVerifier()).verify(first.signer.did, msg, await again.signer.sign(msg)));
      const info = await stat(join(dir, "keys", "node.json"));
      assert.equal(info.mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, "keys"))).mode & 0o777, 0o700);
      assert.deepEqual(await readdir(join(dir, "keys")), ["node.json"], "no temp files left behind");
    }));

  it("never overwrites an existing key", () =>
    withDir(async (dir) => {
      const ks = fileKeystore({ dir });
      const s = await ks.create("a");
      await assert.rejects(ks.create("a"), { code: "keystore/exists" });
      assert.equal((await ks.load("a"))?.did, s.did);
      const results = await Promise.allSettled([ks.create("b"), ks.create("b"), ks.create("b")]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, "concurrent creates: one wins");
    }));

  it("refuses a key file readable by others, and says how to fix it", () =>
    withDir(async (dir) => {
      const ks = fileKeystore({ dir });
      await ks.create("node");
      await chmod(join(dir, "node.json"), 0o644);
      await assert.rejects(ks.load("node"), (e: Error & { code?: string }) => {
        assert.equal(e.code, "keystore/insecure-permissions");
        assert.match(e.message, /chmod 600/);
        return true;
      });
    }));

  it("detects a damaged key file and never prints the secret", () =>
    withDir(async (dir) => {
      const ks = fileKeystore({ dir });
      await ks.create("node");
      const path = join(dir, "node.json");
      const file = JSON.parse(await readFile(path, "utf8"));
      await writeFile(
        path,
        JSON.stringify({ ...file, seed: file.seed.replace(/^./, (c: string) => (c === "A" ? "B" : "A")) }),
        {
          mode: 0o600,
        },
      );
      await assert.rejects(ks.load("node"), (e: Error & { code?: string }) => {
        assert.equal(e.code, "keystore/corrupt");
        assert.ok(!e.message.includes(file.seed));
        return true;
      });
      await writeFile(path, "{not json", { mode: 0o600 });
      await assert.rejects(ks.load("node"), { code: "keystore/corrupt" });
    }));

  it("rejects key names that could escape the directory", () =>
    withDir(async (dir) => {
      const ks = fileKeystore({ dir });
      for (const bad of ["../x", "a/b", "", "A", ".hidden"]) {
        await assert.rejects(ks.create(bad), { code: "keystore/bad-name" });
      }
    }));
});
