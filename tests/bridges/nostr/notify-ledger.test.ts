/**
 * The Nostr bridge's durable notification state, with no relay: what each
 * person was told survives a reopen and is forgotten after the week the
 * notifier looks back over; when a person opted in is kept, a person opted
 * in before it was kept counts from the reopen, and turning everything off
 * forgets it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NOTIFY_LOOKBACK_MS, NotifyLedger } from "../../../bridges/nostr/notify-ledger.ts";
import { NotifyPrefs } from "../../../bridges/nostr/notify-prefs.ts";

async function inDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "weft-nostr-notify-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("what the Nostr bridge told whom", () => {
  it("keeps what was told across a reopen, per person, and forgets it after the look-back", () =>
    inDir(async (dir) => {
      const path = join(dir, "notified.json");
      let now = 1_800_000_000_000;
      const ledger = await NotifyLedger.open(path, () => now);
      await ledger.record("alice", ["failed:t1", "patch:r1"]);
      const again = await NotifyLedger.open(path, () => now);
      assert.equal(again.told("alice", "failed:t1"), true);
      assert.equal(again.told("alice", "patch:r1"), true);
      assert.equal(again.told("bob", "failed:t1"), false, "told per person");
      now += NOTIFY_LOOKBACK_MS + 1;
      await again.record("alice", ["failed:t2"]);
      const later = await NotifyLedger.open(path, () => now);
      assert.equal(later.told("alice", "failed:t1"), false, "forgotten past the look-back");
      assert.equal(later.told("alice", "failed:t2"), true);
    }));

  it("refuses a file of the wrong shape, saying what to do", () =>
    inDir(async (dir) => {
      const path = join(dir, "notified.json");
      await writeFile(path, '{"version":1,"told":{"alice":{"failed:t1":"yesterday"}}}');
      await assert.rejects(NotifyLedger.open(path), /may be sent again/);
    }));

  it("keeps when each person opted in; older settings count from when they are read", () =>
    inDir(async (dir) => {
      const path = join(dir, "notify.json");
      await writeFile(path, JSON.stringify({ version: 1, on: { alice: ["runs"] } }));
      const prefs = await NotifyPrefs.open(path, 1_000);
      assert.equal(prefs.since("alice"), 1_000);
      assert.deepEqual(JSON.parse(await readFile(path, "utf8")).since, { alice: 1_000 }, "written back");
      await prefs.set("bob", ["patches"], true, 2_000);
      await prefs.set("bob", ["runs"], true, 3_000);
      assert.equal(prefs.since("bob"), 2_000, "a second kind keeps the first opt-in");
      await prefs.set("bob", ["runs", "patches"], false, 4_000);
      assert.equal(prefs.since("bob"), undefined);
      assert.deepEqual((await NotifyPrefs.open(path, 5_000)).people(), ["alice"]);
    }));
});
