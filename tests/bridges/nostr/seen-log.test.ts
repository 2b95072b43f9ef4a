/**
 * The Nostr bridge's record of handled rumors on disk: durable across a
 * reopen, a torn last line and the first version's lines read, and bounded:
 * ids older than the window are compacted away (the file shrinks), and
 * rumors dated outside the window are refused before it is asked.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inWindow, SeenLog, WINDOW_S } from "../../../bridges/nostr/seen-log.ts";

const id = (n: number) => n.toString(16).padStart(64, "0");
const DAY = 24 * 3600;

describe("the seen-rumors log", () => {
  it("keeps ids across a reopen, reads the first version's lines, skips a torn line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-seen-"));
    const path = join(dir, "seen-rumors.log");
    try {
      await writeFile(path, `\n${id(1)}\n`); // the first version: bare ids
      const now = Date.now();
      const log = await SeenLog.open(path, () => now);
      assert.ok(log.has(id(1)));
      assert.equal(await log.add(id(2), Math.floor(now / 1000)), true);
      assert.equal(await log.add(id(2), Math.floor(now / 1000)), false, "once");
      await log.close();
      await appendFile(path, id(3).slice(0, 40)); // a crash mid-append
      const again = await SeenLog.open(path, () => now);
      assert.ok(again.has(id(1)) && again.has(id(2)) && !again.has(id(3)));
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("compacts away ids older than the window, so the file stays bounded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-seen-"));
    const path = join(dir, "seen-rumors.log");
    let now = Date.now();
    try {
      const log = await SeenLog.open(path, () => now);
      const t = Math.floor(now / 1000);
      for (let i = 0; i < 3_000; i++) await log.add(id(i), t - 6 * DAY); // old, still in the window
      now += 2 * DAY * 1000; // now they are past it
      for (let i = 3_000; i < 3_010; i++) await log.add(id(i), Math.floor(now / 1000));
      await log.close();
      const lines = (await readFile(path, "utf8")).split("\n").filter(Boolean).length;
      assert.ok(lines < 3_000, `compacted while running (${lines} lines)`);
      const reopened = await SeenLog.open(path, () => now);
      assert.equal(reopened.size, 10, "only the ten in the window");
      assert.ok(!reopened.has(id(0)) && reopened.has(id(3_009)));
      assert.equal((await readFile(path, "utf8")).split("\n").filter(Boolean).length, 10);
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses rumors dated outside the window, which is why forgetting old ids is safe", () => {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    assert.ok(inWindow(s, now));
    assert.ok(inWindow(s - 2 * DAY, now), "NIP-59's two days back");
    assert.ok(!inWindow(s - WINDOW_S - 1, now));
    assert.ok(!inWindow(s + DAY, now), "not far in the future either");
  });
});
