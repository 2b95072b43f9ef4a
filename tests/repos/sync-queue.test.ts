// A repository's syncs run one at a time, and only the last one asked for decides whether the
// repository is current: the sweep retries anything else. (A peer once kept a losing concurrent
// push's ref for good: its own push's sync ended after the winner's sync was queued, marked the
// repository current, and the winner's failed fetch was never tried again.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SyncQueue } from "../../peer/repo/sync-queue.ts";

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("SyncQueue", () => {
  it("runs a key's syncs one after another, in order", async () => {
    const q = new SyncQueue(() => {});
    const order: string[] = [];
    const first = deferred<boolean>();
    const a = q.run("r", async () => {
      order.push("first starts");
      const v = await first.promise;
      order.push("first ends");
      return v;
    });
    const b = q.run("r", () => {
      order.push("second starts");
      return Promise.resolve(true);
    });
    await Promise.resolve();
    first.resolve(true);
    await Promise.all([a, b]);
    assert.deepEqual(order, ["first starts", "first ends", "second starts"]);
    assert.equal(q.isCurrent("r"), true);
  });

  it("an earlier sync that succeeds after a later one was queued does not mark the key current", async () => {
    const q = new SyncQueue(() => {});
    const first = deferred<boolean>();
    const ran = q.run("r", () => first.promise);
    const later = q.run("r", () => Promise.resolve(false)); // the objects could not be fetched yet
    first.resolve(true);
    await Promise.all([ran, later]);
    assert.equal(q.isCurrent("r"), false, "left for the sweep to try again");
  });

  it("a failed sync is reported and leaves the key not current; other keys are untouched", async () => {
    const errors: string[] = [];
    const q = new SyncQueue((key) => errors.push(key));
    await q.run("ok", () => Promise.resolve(true));
    await q.run("bad", () => Promise.reject(new Error("fetch failed")));
    assert.deepEqual(errors, ["bad"]);
    assert.equal(q.isCurrent("bad"), false);
    assert.equal(q.isCurrent("ok"), true);
    await q.run("bad", () => Promise.resolve(true));
    assert.equal(q.isCurrent("bad"), true);
  });
});
