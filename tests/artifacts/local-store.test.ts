/**
 * The embedded artifact store on a real filesystem: content-addressed and
 * durable, streaming in and out, refusing bytes that do not
 * match their announced digest without leaving anything behind, and serving
 * runs as their ContentStore.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { LocalArtifactStore } from "../../peer/artifacts/local-store.ts";
import { SpaceRefs } from "../../peer/artifacts/space-refs.ts";
import { FsDatastore } from "../../peer/artifacts/fs-datastore.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { utf8 } from "../../protocol/bytes.ts";
import { Key } from "interface-datastore";
import { signer } from "../helpers/principals.ts";
import { pattern } from "../helpers/artifacts.ts";

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

describe("local artifact store", () => {
  let dir: string;
  let store: LocalArtifactStore;
  let node: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-local-store-"));
    node = (await signer()).did;
    store = await LocalArtifactStore.open({ dir, node });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stores by sha-256, reads back whole or from an offset, and reports where", async () => {
    const bytes = utf8("hello artifacts");
    const sha = createHash("sha256").update(bytes).digest("hex");
    const stored = await store.write([bytes.subarray(0, 5), bytes.subarray(5)]);
    assert.deepEqual(stored, { sha256: sha, size: bytes.length, cid: rawCid(sha), location: { store: "local", node } });
    assert.deepEqual(await readFile(join(dir, "objects", sha.slice(0, 2), sha)), Buffer.from(bytes));
    assert.deepEqual(await store.stat(sha), { size: bytes.length });
    assert.equal((await collect(await store.read(sha))).toString(), "hello artifacts");
    assert.equal((await collect(await store.read(sha, { offset: 6 }))).toString(), "artifacts");
    await assert.rejects(store.read("0".repeat(64)), { code: "not-found" });
    assert.equal(await store.stat("0".repeat(64)), undefined);
    await assert.rejects(store.stat("nothex"), { code: "input/invalid" });
  });

  it("refuses bytes that do not match the announced digest or size, leaving nothing", async () => {
    const bytes = utf8("the real bytes");
    const wrong = "a".repeat(64);
    await assert.rejects(store.write([bytes], { sha256: wrong }), { code: "artifact/digest-mismatch" });
    await assert.rejects(store.write([bytes], { size: bytes.length + 1 }), { code: "artifact/digest-mismatch" });
    await assert.rejects(store.write([bytes], { size: 3 }), { code: "artifact/digest-mismatch" });
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
    assert.equal(await store.stat(createHash("sha256").update(bytes).digest("hex")), undefined);
    const failing = (async function* () {
      yield utf8("partial");
      throw new Error("the source broke");
    })();
    await assert.rejects(store.write(failing), /the source broke/);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });

  it("dedupes a put it already holds without reading the source", async () => {
    const bytes = utf8("dedupe me");
    const first = await store.write([bytes]);
    const untouched: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        throw new Error("read although already stored");
      },
    };
    assert.deepEqual(await store.write(untouched, { sha256: first.sha256, size: bytes.length }), first);
  });

  it("is the runners' ContentStore: put bytes, get them by raw CID", async () => {
    const cid = await store.put(utf8("run output"));
    assert.deepEqual(await store.get(cid), utf8("run output"));
    assert.equal(await store.get(rawCid("1".repeat(64))), undefined);
    await assert.rejects(store.get("bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5jzbfoqtgvwyhmu"), {
      code: "artifact/invalid-cid",
    });
  });

  // Its memory use is measured in tests/bench/artifacts-transfer.bench.ts, not asserted here.
  it("streams 100 MB in and out, digest checked", async () => {
    const size = 100 * 1024 * 1024;
    const hash = createHash("sha256");
    const stored = await store.write(
      (async function* () {
        for await (const c of pattern(size)) {
          hash.update(c);
          yield c;
        }
      })(),
    );
    assert.equal(stored.sha256, hash.digest("hex"));
    const back = createHash("sha256");
    let n = 0;
    for await (const c of await store.read(stored.sha256)) {
      back.update(c);
      n += c.length;
    }
    assert.equal(n, size);
    assert.equal(back.digest("hex"), stored.sha256);
  });

  it("clears temp files a crash left behind when it opens", async () => {
    await writeFile(join(dir, "tmp", "interrupted"), "half a put");
    await LocalArtifactStore.open({ dir, node });
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });
});

describe("space references and the pin datastore", () => {
  it("records which spaces may read which digests, durably", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-refs-"));
    try {
      const space = (await signer()).did;
      const other = (await signer()).did;
      const refs = new SpaceRefs(dir);
      await refs.add(space, "b".repeat(64));
      await refs.add(space, "b".repeat(64));
      assert.equal(await refs.has(space, "b".repeat(64)), true);
      assert.equal(await refs.has(other, "b".repeat(64)), false);
      assert.deepEqual(await new SpaceRefs(dir).list(space), ["b".repeat(64)]);
      assert.deepEqual(await refs.list(other), []);
      await assert.rejects(refs.add("did:web:example.com", "b".repeat(64)), { code: "input/invalid" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps helia's records across reopening, with prefix queries", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-ds-"));
    try {
      const ds = new FsDatastore(dir);
      await ds.open();
      await ds.put(new Key("/pin/abc"), utf8("1"));
      await ds.put(new Key("/pinned-block/abc"), utf8("2"));
      const again = new FsDatastore(dir);
      assert.deepEqual(await again.get(new Key("/pin/abc")), utf8("1"));
      const pins = [];
      for await (const p of again.query({ prefix: "/pin/" })) pins.push(p.key.toString());
      assert.deepEqual(pins, ["/pin/abc"]);
      await again.delete(new Key("/pin/abc"));
      assert.equal(await again.has(new Key("/pin/abc")), false);
      await assert.rejects(again.get(new Key("/pin/abc")), { name: "NotFoundError" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
