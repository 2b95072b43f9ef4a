/**
 * The DM model budget's ledger on its own: calls per person per UTC day
 * and the day's money, reserved and settled through the router's budget
 * hook, kept across a reopen, and begun again the next day.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelLedger } from "../../../bridges/nostr/model-ledger.ts";

const request = (maxCostMicroUsd: number) => ({
  maxCostMicroUsd,
  maxTokens: 100,
  taskKind: "nostr-dm",
  provider: "m",
  model: "x",
});
const usage = { inputTokens: 1, outputTokens: 1 };

describe("the DM model ledger", () => {
  it("counts calls per person, grants no more money than the day has left, and keeps both across a reopen", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-ledger-"));
    let now = Date.parse("2026-12-02T10:00:00Z");
    const limits = { callsPerDay: 2, microUsdPerDay: 500 };
    try {
      const path = join(dir, "spend.json");
      const ledger = await ModelLedger.open(path, limits, () => now);
      await ledger.begin("did:ada");
      const hook = ledger.hook();
      const first = await hook.reserve(request(400));
      assert.equal(first.grantedMicroUsd, 400);
      const second = await hook.reserve(request(400));
      assert.equal(second.grantedMicroUsd, 100, "only what is left while the first is in flight");
      await assert.rejects(hook.reserve(request(1)), /budget for model answers by DM is spent/);
      await hook.settle(first, 350, usage);
      await hook.settle(second, 100, usage);
      assert.equal(ledger.spentMicroUsd, 450);
      await ledger.begin("did:ada");
      await assert.rejects(ledger.begin("did:ada"), /used your 2 model calls for today/);

      const reopened = await ModelLedger.open(path, limits, () => now);
      assert.equal(reopened.callsOf("did:ada"), 2);
      assert.equal(reopened.spentMicroUsd, 450);
      await reopened.begin("did:bob");
      const last = await reopened.hook().reserve(request(100));
      assert.equal(last.grantedMicroUsd, 50);
      await reopened.hook().settle(last, 50, usage);
      await assert.rejects(reopened.begin("did:bob"), /budget for model answers by DM is spent/);

      now = Date.parse("2026-12-03T00:00:01Z");
      assert.equal(reopened.callsOf("did:ada"), 0, "a new UTC day");
      await reopened.begin("did:ada");
      assert.equal(reopened.spentMicroUsd, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
