/**
 * The Nostr bridge's state files: absent is a fresh start; oversized,
 * unparsable or the wrong shape stops the bridge saying what to do.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStateFile, type StateFileShape } from "../../../bridges/nostr/state-file.ts";

const shape: StateFileShape<{ version: 1 }> = {
  maxBytes: 64,
  what: "the test's state",
  valid: (p): p is { version: 1 } => (p as { version?: number })?.version === 1,
  startOver: "start over",
};

describe("Nostr bridge state files", () => {
  it("reads a good one, takes none as a fresh start, and refuses the rest with what to do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-nostr-state-"));
    try {
      const path = join(dir, "state.json");
      assert.equal(await readStateFile(path, shape), undefined);
      await writeFile(path, '{"version":1}');
      assert.deepEqual(await readStateFile(path, shape), { version: 1 });
      for (
        const [text, why] of [
          [`{"version":1,"pad":"${"x".repeat(64)}"}`, /larger than the test's state can be/],
          ["{not json", /JSON/],
          ['{"version":2}', /not version 1 of the test's state/],
        ] as const
      ) {
        await writeFile(path, text);
        await assert.rejects(readStateFile(path, shape), (e: Error & { code?: string }) => {
          assert.equal(e.code, "nostr/pairing");
          assert.match(e.message, why);
          assert.match(e.message, /move it away to start over$/);
          return true;
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
