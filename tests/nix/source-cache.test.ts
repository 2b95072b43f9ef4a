/**
 * The nix runner's source cache (bridges/nix/source-cache.ts): a source is
 * unpacked once per CID however many builds read it (at once or one after
 * another), from the bytes it is handed when it has them, a source whose bytes do not match its CID or do not unpack
 * leaves nothing under its name, names that are not canonical CIDs are
 * refused, and past its budget the least recently used trees no run holds
 * are removed while held ones stay; it lives on a tmpfs when one has room,
 * and leaves nothing there once closed.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cidOf, RAW } from "../../protocol/codec/cid.ts";
import { isWeftError } from "../../protocol/errors.ts";
import type { ContentStore } from "../../protocol/runner/runner.ts";
import { packSource, type SourceEntry } from "../../protocol/runner/source.ts";
import { SourceCache, sourceCacheDir } from "../../bridges/nix/source-cache.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-source-cache-"));
  dirs.push(dir);
  return join(dir, "sources");
}

const tree = (label: string, size = 10): SourceEntry[] => [
  { path: "default.nix", kind: "file", executable: false, bytes: new TextEncoder().encode(`"${label}"`) },
  { path: "data/blob", kind: "file", executable: false, bytes: new Uint8Array(size).fill(7) },
  { path: "data/link", kind: "symlink", target: "blob" },
];

/** A store that counts its reads, so a test sees how often a source was fetched (once per unpack). */
function counting(store: ContentStore): ContentStore & { reads: number } {
  const s = {
    reads: 0,
    get(cid: string) {
      s.reads++;
      return store.get(cid);
    },
    put: (bytes: Uint8Array) => store.put(bytes),
  };
  return s;
}

describe("nix source cache", () => {
  it("unpacks a source once for every build that reads it, together or one after another", async () => {
    const memory = new MemoryContentStore();
    const store = counting(memory);
    const cid = await memory.put(packSource(tree("a")));
    const cache = await SourceCache.open(cacheDir(), 1 << 20);
    const held = await Promise.all([cache.acquire(cid, store), cache.acquire(cid, store), cache.acquire(cid, store)]);
    assert.equal(store.reads, 1, "three builds at once, one unpack");
    assert.equal(new Set(held.map((h) => h.dir)).size, 1);
    const { dir } = held[0];
    assert.equal(readFileSync(join(dir, "default.nix"), "utf8"), '"a"');
    const inode = statSync(join(dir, "data/blob")).ino;
    held.forEach((h) => h.release());
    const again = await cache.acquire(cid, store);
    assert.equal(store.reads, 1, "a later build reads the kept tree");
    assert.equal(statSync(join(again.dir, "data/blob")).ino, inode, "the same files, not rewritten");
    again.release();
    assert.deepEqual(await cache.cached(), [cid]);
  });

  it("unpacks from the bytes it is handed (a source just stored) without reading the store", async () => {
    const memory = new MemoryContentStore();
    const store = counting(memory);
    const bytes = packSource(tree("handed"));
    const cid = await memory.put(bytes);
    const cache = await SourceCache.open(cacheDir(), 1 << 20);
    const held = await cache.acquire(cid, store, bytes);
    assert.equal(store.reads, 0, "the bytes in hand, not the store's");
    assert.equal(readFileSync(join(held.dir, "default.nix"), "utf8"), '"handed"');
    held.release();
    (await cache.acquire(cid, store)).release();
    assert.equal(store.reads, 0, "a build that follows reads the tree made from them");
  });

  it("keeps nothing under a CID whose bytes do not match it or do not unpack", async () => {
    const memory = new MemoryContentStore();
    const good = packSource(tree("good"));
    const cid = cidOf(good, RAW).toString();
    const lying: ContentStore = { get: () => Promise.resolve(packSource(tree("other"))), put: (b) => memory.put(b) };
    const cache = await SourceCache.open(cacheDir(), 1 << 20);
    await assert.rejects(cache.acquire(cid, lying), (e) => isWeftError(e) && e.code === "runner/content-mismatch");
    const garbage = new Uint8Array(1024).fill(1);
    const garbageCid = await memory.put(garbage);
    await assert.rejects(
      cache.acquire(garbageCid, memory),
      (e) => isWeftError(e) && e.code === "runner/source-invalid",
    );
    const missing = cidOf(new Uint8Array([9]), RAW).toString();
    await assert.rejects(cache.acquire(missing, memory), (e) => isWeftError(e) && e.code === "runner/content-missing");
    assert.deepEqual(await cache.cached(), [], "no tree and no half-written directory is left");
    // The true bytes, once available, unpack normally.
    await memory.put(good);
    const held = await cache.acquire(cid, memory);
    assert.equal(readFileSync(join(held.dir, "default.nix"), "utf8"), '"good"');
    held.release();
  });

  it("refuses a source name that is not a canonical CID (it names a directory)", async () => {
    const cache = await SourceCache.open(cacheDir(), 1 << 20);
    const store = new MemoryContentStore();
    const cid = await store.put(packSource(tree("x")));
    for (const bad of ["../../etc", `${cid}/..`, cid.toUpperCase(), "", "bafy"]) {
      assert.throws(() => cache.dirOf(bad), (e) => isWeftError(e) && e.code === "runner/spec-invalid", bad);
      await assert.rejects(cache.acquire(bad, store), (e) => isWeftError(e) && e.code === "runner/spec-invalid");
    }
  });

  it("past its budget, removes the least recently used trees no build holds", async () => {
    const store = new MemoryContentStore();
    const cids = await Promise.all(["1", "2", "3"].map((l) => store.put(packSource(tree(l, 40_000)))));
    const cache = await SourceCache.open(cacheDir(), 100_000);
    const first = await cache.acquire(cids[0], store);
    const second = await cache.acquire(cids[1], store);
    second.release(); // 80 kB cached: within the budget, both stay
    assert.deepEqual(await cache.cached(), [...cids.slice(0, 2)].sort());
    const third = await cache.acquire(cids[2], store);
    third.release(); // 120 kB: the idle least recently used one (the second) goes; the first is held
    await waitFor(async () => !(await cache.cached()).includes(cids[1]));
    assert.deepEqual(await cache.cached(), [cids[0], cids[2]].sort());
    assert.equal(readFileSync(join(first.dir, "default.nix"), "utf8"), '"1"', "a held tree is never removed");
    first.release();
  });

  it("starts empty: what a previous start left (half-written trees included) is dropped", async () => {
    const dir = cacheDir();
    const store = new MemoryContentStore();
    const cid = await store.put(packSource(tree("old")));
    const before = await SourceCache.open(dir, 1 << 20);
    (await before.acquire(cid, store)).release();
    writeFileSync(join(dir, `.${cid}.half`), "interrupted");
    const cache = await SourceCache.open(dir, 1 << 20);
    assert.deepEqual(await cache.cached(), []);
    // The first cache (another runner on the same state dir) notices its tree is gone and unpacks it again.
    const again = await before.acquire(cid, store);
    assert.equal(readFileSync(join(again.dir, "default.nix"), "utf8"), '"old"');
    again.release();
  });

  it("lives in memory (a tmpfs with room for it) unless configured elsewhere, and is removed at close", async () => {
    const fallback = cacheDir();
    const shm = await statfs("/dev/shm").catch(() => undefined);
    const dir = await sourceCacheDir(undefined, "test-group", 1 << 20, fallback);
    if (shm?.type === 0x01021994) assert.equal(dir, "/dev/shm/weft-nix-sources-test-group");
    else assert.equal(dir, fallback, "no tmpfs at /dev/shm: the state dir");
    assert.equal(await sourceCacheDir(undefined, "g", Number.MAX_SAFE_INTEGER, fallback), fallback, "no room: disk");
    assert.equal(await sourceCacheDir("/srv/sources", "g", 1 << 20, fallback), "/srv/sources", "configured");

    const store = new MemoryContentStore();
    const cid = await store.put(packSource(tree("mem")));
    const cache = await SourceCache.open(dir, 1 << 20);
    const held = await cache.acquire(cid, store);
    assert.equal(readFileSync(join(held.dir, "default.nix"), "utf8"), '"mem"');
    held.release();
    await cache.close();
    assert.equal(existsSync(dir), false, "nothing left holding memory once the runner closed");
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the cache did not evict");
}
