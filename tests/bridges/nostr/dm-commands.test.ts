/**
 * How the Nostr bridge reads a DM, with no relay and no model: the plain and
 * strict forms of approve, deny and notify, what is free text (for the
 * model) and what is an unknown strict form (the help, never the model),
 * and the `[bridges.nostr]` settings of the DM budget and approvals.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCommand } from "../../../bridges/nostr/commands.ts";
import { readNostrConfig } from "../../../bridges/nostr/config.ts";

describe("reading a DM", () => {
  it("reads approve and deny, plain and strict, with an optional kind and reason", () => {
    assert.deepEqual(parseCommand("approve patch 3F2A"), { kind: "approve", prefix: "3f2a", what: "patch" });
    assert.deepEqual(parseCommand("/approve 9c1e0000"), { kind: "approve", prefix: "9c1e0000" });
    assert.deepEqual(parseCommand("deny request 7d3b: no piping into a shell"), {
      kind: "deny",
      prefix: "7d3b",
      what: "request",
      reason: "no piping into a shell",
    });
    assert.deepEqual(parseCommand("/deny 7d3b not this way"), { kind: "deny", prefix: "7d3b", reason: "not this way" });
  });

  it('reads words for one agent, "@name …" or "/tell name …", and leaves other free text to the model', () => {
    const tell = { kind: "tell", agent: "ada", text: "also look at src/sub.sh" };
    assert.deepEqual(parseCommand("@ada also look at src/sub.sh"), tell);
    assert.deepEqual(parseCommand("@ada: also look at src/sub.sh"), tell);
    assert.deepEqual(parseCommand("/tell ada also look at src/sub.sh"), tell);
    assert.equal(parseCommand("tell me about ada").kind, "text");
    assert.equal(parseCommand("@ada").kind, "text", "a name alone says nothing to hand over");
  });

  it("answers a short or missing id with how to say it, never handing it to the model", () => {
    assert.equal(parseCommand("approve 3f").kind, "usage");
    assert.equal(parseCommand("/deny").kind, "usage");
    assert.equal(parseCommand("notify maybe").kind, "usage");
  });

  it("reads notify on, off and the question", () => {
    assert.deepEqual(parseCommand("/notify"), { kind: "notify" });
    assert.deepEqual(parseCommand("notify on all"), { kind: "notify", on: true, what: "all" });
    assert.deepEqual(parseCommand("Notify OFF runs"), { kind: "notify", on: false, what: "runs" });
  });

  it("hands anything else to the model, but not an unknown strict form", () => {
    assert.deepEqual(parseCommand("  what failed last night?  "), { kind: "text", text: "what failed last night?" });
    assert.deepEqual(parseCommand("/frobnicate"), { kind: "unknown" });
    assert.equal(parseCommand("x".repeat(2_000)).kind, "text", "a long message is no command, but still text");
    assert.deepEqual(parseCommand("/" + "x".repeat(2_000)), { kind: "unknown" });
  });
});

describe("[bridges.nostr] settings for approvals and the DM budget", () => {
  const relays = ["wss://relay.example"];
  it("defaults and bounds", () => {
    const c = readNostrConfig({ relays });
    assert.equal(c.approvalTtlS, 3_600);
    assert.equal(c.modelCallsPerDay, 20);
    assert.equal(c.modelMicroUsdPerDay, 1_000_000);
    assert.equal(readNostrConfig({ relays, model_calls_per_day: 0 }).modelCallsPerDay, 0, "0 turns free text off");
    assert.throws(() => readNostrConfig({ relays, model_micro_usd_per_day: 0 }), /model_micro_usd_per_day/);
    assert.throws(() => readNostrConfig({ relays, approval_ttl_s: 10 }), /approval_ttl_s.*60/);
    assert.throws(() => readNostrConfig({ relays, model_budget: 1 }), /not a setting.*model_calls_per_day/);
  });
});
