import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KvStorageAdapter, type KvStore, memoryKv } from "../../protocol/storage/kv-storage.ts";

describe("KV storage adapter", () => {
  it("stores small and multi-part values, lists ranges, removes", async () => {
    const kv = memoryKv(1024, 4);
    const s = new KvStorageAdapter(kv);
    const big = crypto.getRandomValues(new Uint8Array(10_000));
    await s.save(["doc1", "snapshot", "a"], big);
    await s.save(["doc1", "incremental", "b"], new Uint8Array([1, 2]));
    await s.save(["doc2", "snapshot", "c"], new Uint8Array([3]));
    assert.deepEqual(await s.load(["doc1", "snapshot", "a"]), big);
    assert.deepEqual((await s.loadRange(["doc1"])).map((c) => c.key.join("/")).sort(), [
      "doc1/incremental/b",
      "doc1/snapshot/a",
    ]);
    // Overwriting a big value with a small one leaves no parts behind.
    await s.save(["doc1", "snapshot", "a"], new Uint8Array([9]));
    assert.deepEqual(await s.load(["doc1", "snapshot", "a"]), new Uint8Array([9]));
    assert.equal(kv.size, 3);
    await s.removeRange(["doc1"]);
    assert.deepEqual(await s.loadRange(["doc1"]), []);
    await s.remove(["doc2", "snapshot", "c"]);
    assert.equal(kv.size, 0);
  });

  it("a writer dying mid-way leaves the old value readable, never a mix", async () => {
    const inner = memoryKv(1024, 4);
    let failAfter = Infinity;
    const flaky: KvStore = {
      ...inner,
      get: inner.get,
      list: inner.list,
      commit(puts, deletes) {
        if (failAfter-- <= 0) return Promise.reject(new Error("power cut"));
        return inner.commit(puts, deletes);
      },
    };
    const s = new KvStorageAdapter(flaky);
    const v1 = new Uint8Array(5000).fill(1);
    await s.save(["k"], v1);
    for (const cut of [0, 1, 2]) {
      failAfter = cut;
      await assert.rejects(s.save(["k"], new Uint8Array(5000).fill(2)));
      failAfter = Infinity;
      assert.deepEqual(await s.load(["k"]), v1, `cut after ${cut} commits`);
    }
    const v2 = new Uint8Array(7000).fill(3);
    await s.save(["k"], v2);
    assert.deepEqual(await s.load(["k"]), v2);
    assert.equal(inner.size, 1 + Math.ceil(7000 / 1024), "orphaned parts of the failed writes were cleaned up");
  });
});
