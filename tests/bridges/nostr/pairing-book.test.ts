/**
 * The Nostr bridge's pairing book on disk: one live code per key, and a
 * flood of new keys asking for codes cannot lock anyone out (the oldest code
 * makes room; before, the 65th asker was refused for ten minutes).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { PairingBook } from "../../../bridges/nostr/pairing-book.ts";
import { pairingProof } from "../../../protocol/bridge/pairing-proof.ts";

const TTL = 600_000;
const person = "did:key:z6MkperSon";

describe("the pairing book", () => {
  it("gives one live code per key, and a flood of keys cannot lock a newcomer out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-pairing-"));
    let now = 1_000_000;
    try {
      const book = await PairingBook.open(join(dir, "pairings.json"), () => now);
      const first = getPublicKey(generateSecretKey());
      const firstCode = await book.issue(first, TTL);
      assert.ok(firstCode);
      assert.equal(await book.issue(first, TTL), undefined, "one live code per key");
      for (let i = 0; i < 300; i++) {
        now += 10;
        assert.ok(await book.issue(getPublicKey(generateSecretKey()), TTL), `stranger ${i} gets a code`);
      }
      now += 10;
      const late = getPublicKey(generateSecretKey());
      const lateCode = await book.issue(late, TTL);
      assert.ok(lateCode, "a newcomer after the flood still gets a code");
      assert.equal(await book.confirm(pairingProof(firstCode, person), person, "s"), undefined, "the oldest made room");
      const reopened = await PairingBook.open(join(dir, "pairings.json"), () => now);
      assert.equal(await reopened.confirm(pairingProof(lateCode, person), person, "s"), late, "durably");
      assert.equal(reopened.paired(late)?.did, person);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
