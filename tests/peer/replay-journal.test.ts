/**
 * The used-bearer journal stays bounded: expired entries are dropped when it
 * opens and when the cache prunes, a torn last line is ignored, and what is
 * live survives a reopen.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReplayJournal } from "../../peer/storage/replay-journal.ts";
import { ReplayCache } from "../../peer/api/auth.ts";

it("opens with only live entries, drops a torn line, and keeps its file 0600", async () => {
  const dir = await mkdtemp(join(tmpdir(), "weft-replay-"));
  try {
    const path = join(dir, "api-replays.log");
    await writeFile(path, "100 bafyexpired\n2000 bafylive\n2000 bafyto");
    const { journal, seen } = await ReplayJournal.open(path, 1000);
    assert.deepEqual([...seen], [["bafylive", 2000]]);
    assert.equal(await readFile(path, "utf8"), "2000 bafylive\n");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await journal.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("the cache prunes expired bearers and rewrites the journal as it grows", async () => {
  const dir = await mkdtemp(join(tmpdir(), "weft-replay-"));
  try {
    const path = join(dir, "api-replays.log");
    const opened = await ReplayJournal.open(path, 0);
    const cache = new ReplayCache(opened);
    await Promise.all(Array.from({ length: 1024 }, (_, i) => cache.check(`bafyold${i}`, 500, 400)));
    await cache.check("bafynew", 2000, 1000); // past the prune mark, at a time the old ones expired
    assert.throws(() => cache.check("bafynew", 2000, 1000), { code: "auth/replayed" }); // at once, before any work
    await opened.journal.close();
    const lines = (await readFile(path, "utf8")).trim().split("\n");
    assert.deepEqual([...new Set(lines)], ["2000 bafynew"], "only the live entry is kept");
    const reopened = await ReplayJournal.open(path, 1000);
    assert.deepEqual([...reopened.seen.keys()], ["bafynew"]);
    await reopened.journal.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
