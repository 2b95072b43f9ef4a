/**
 * What a node's watchers of stored artifacts are handed (peer/artifacts/stored-tap.ts), through a real local store:
 * the first block of everything, and the whole bytes of what a watcher asks for by that block — exactly the bytes
 * the store hashed into the CID, however the upload was chunked and even when its sender reuses a buffer — but
 * never more than the bound, nor bytes the store did not read (it already held the artifact).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalArtifactStore } from "../../peer/artifacts/local-store.ts";
import { STORED_HEAD_BYTES, StoredTap, type StoredWatcher } from "../../peer/artifacts/stored-tap.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { signer } from "../helpers/principals.ts";

interface Seen {
  cid: string;
  head: Uint8Array;
  whole?: Uint8Array;
}

/**
 * A watcher recording what it is told and how often it was asked; it wants the whole of artifacts whose first
 * byte is `wanted`.
 */
function watcher(wanted: number): StoredWatcher & { seen: Seen[]; asked: number } {
  const seen: Seen[] = [];
  const w = {
    seen,
    asked: 0,
    wantsWhole: (head: Uint8Array) => {
      w.asked++;
      return head[0] === wanted;
    },
    stored: (cid: string, head: Uint8Array, whole?: Uint8Array) => void seen.push({ cid, head: head.slice(), whole }),
  };
  return w;
}

/** `length` random bytes, the first one `first` (what the watchers here choose by). */
function bytesStarting(first: number, length: number): Uint8Array {
  const bytes = new Uint8Array(randomBytes(length));
  bytes[0] = first;
  return bytes;
}

/** `bytes` in chunks of the given sizes, in turn, the last repeated to the end. */
function* chunked(bytes: Uint8Array, sizes: number[]): Iterable<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[Math.min(i, sizes.length - 1)];
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

describe("stored artifacts as their watchers see them", () => {
  let dir: string;
  let store: LocalArtifactStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-stored-tap-"));
    store = await LocalArtifactStore.open({ dir, node: (await signer()).did });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Stores `source` through a tap to `watchers`; the CID the store gave it. */
  async function put(watchers: StoredWatcher[], source: Iterable<Uint8Array>, maxWhole?: number): Promise<string> {
    const tap = new StoredTap(watchers, maxWhole);
    const stored = await store.write(tap.pass(source));
    tap.stored(stored.cid, stored.size);
    return stored.cid;
  }

  it("hands the whole bytes, as the store hashed them, to a watcher that asked, however they were chunked", async () => {
    const bytes = bytesStarting(7, 100_000);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    for (const sizes of [[100_000], [1, 100, 1000], [511, 2], [512, 4096], [300, 300, 60_000]]) {
      const asks = watcher(7);
      const other = watcher(8);
      const cid = await put([asks, other], chunked(bytes, sizes));
      assert.equal(cid, rawCid(sha256).toString());
      assert.equal(asks.seen.length, 1);
      assert.deepEqual(asks.seen[0].whole, bytes, `chunks of ${sizes}: the whole, byte for byte`);
      assert.deepEqual(asks.seen[0].head, bytes.subarray(0, STORED_HEAD_BYTES));
      assert.deepEqual(other.seen, [{ cid, head: bytes.subarray(0, STORED_HEAD_BYTES), whole: undefined }]);
      assert.deepEqual([asks.asked, other.asked], [1, 1], "each watcher judges an artifact's head once");
    }
  });

  it("keeps its own copy when the sender reuses one buffer for every chunk", async () => {
    const bytes = bytesStarting(7, 10_000);
    const asks = watcher(7);
    const buffer = new Uint8Array(1000);
    function* reused(): Iterable<Uint8Array> {
      for (let at = 0; at < bytes.length; at += buffer.length) {
        buffer.set(bytes.subarray(at, at + buffer.length));
        yield buffer;
      }
    }
    const cid = await put([asks], reused());
    assert.equal(cid, rawCid(createHash("sha256").update(bytes).digest("hex")).toString());
    assert.deepEqual(asks.seen[0].whole, bytes);
  });

  it("hands over no whole past the bound, nor for an artifact shorter than a block that no one asked for", async () => {
    const big = bytesStarting(7, 5000);
    const asks = watcher(7);
    await put([asks], chunked(big, [1000]), 4096);
    assert.equal(asks.seen[0].whole, undefined, "5000 bytes, past a 4096-byte bound");
    await put([asks], chunked(big, [1000]), 5000);
    assert.deepEqual(asks.seen[1].whole, big, "5000 bytes, at the bound");

    const small = new Uint8Array([9, 1, 2, 3]);
    const none = watcher(7);
    const cid = await put([none], [small]);
    assert.deepEqual(none.seen, [{ cid, head: small, whole: undefined }]);
  });

  it("hands over no whole when the store did not read the bytes (it already held them)", async () => {
    const bytes = bytesStarting(7, 3000);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await store.write([bytes]);
    const asks = watcher(7);
    const tap = new StoredTap([asks]);
    const stored = await store.write(tap.pass([bytes]), { sha256, size: bytes.length });
    tap.stored(stored.cid, stored.size);
    assert.equal(asks.seen.length, 1);
    assert.equal(asks.seen[0].whole, undefined);
    assert.equal(asks.seen[0].head.length, 0, "nothing was read, so nothing is shown");
  });
});
