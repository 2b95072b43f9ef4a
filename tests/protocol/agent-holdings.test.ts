/**
 * What an agent holds, read back from the delegations `agentGrants` makes
 * (protocol/agents/holdings.ts): the labels, runner kinds, push refs and
 * budget it was given come back exactly, the earliest expiry governs, and
 * what is left of the budget counts open reservations at their maximum and
 * never goes below zero. The agent API and the dashboard show this.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { agentGrants } from "../../protocol/agents/grants.ts";
import { agentHoldings, budgetLeft } from "../../protocol/agents/holdings.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import { signers } from "../helpers/principals.ts";

describe("an agent's holdings", () => {
  it("reads back the labels, runners, push refs and budget its delegations were made with", async () => {
    const [root, agent] = await signers(2);
    const grants = agentGrants({
      name: "fixer",
      labels: ["bug", "flaky"],
      runners: ["container", "nix"],
      budget: { usd: 5_000_000, tokens: 100_000 },
    });
    const delegations = await Promise.all(grants.map((g, i) =>
      delegate({
        issuer: root,
        audience: agent.did,
        subject: root.did,
        command: g.command,
        policy: g.policy,
        expiration: i === 2 ? 1_900_000_000 : 2_000_000_000,
        meta: { kind: "agent", name: "agent fixer" },
      })
    ));
    const h = agentHoldings(delegations);
    assert.deepEqual(h.labels, ["bug", "flaky"]);
    assert.deepEqual(h.runners, ["container", "nix"]);
    assert.deepEqual(h.pushRefs, ["refs/heads/agent/fixer/*"]);
    assert.deepEqual(h.budget, { usd: 5_000_000, tokens: 100_000 });
    assert.equal(h.expires, 1_900_000_000, "the first delegation to end ends what it may do");
    assert.ok(h.commands.includes(Commands.patchPropose));
    assert.ok(!h.commands.some((c) => c.startsWith(Commands.patchMerge)), "agents propose, never merge");
  });

  it("holds nothing it was not given, and no expiry when none ends", async () => {
    const [root, agent] = await signers(2);
    const only = await delegate({
      issuer: root,
      audience: agent.did,
      subject: root.did,
      command: Commands.taskComment,
      expiration: null,
    });
    assert.deepEqual(agentHoldings([only]), {
      labels: [],
      runners: [],
      pushRefs: [],
      budget: {},
      commands: [Commands.taskComment],
      expires: null,
    });
  });

  it("leaves what is neither spent nor reserved, never below zero, per bounded field", () => {
    const spend = (usd: number, tokens: number, rUsd: number, rTokens: number) => ({
      spent: { usd, tokens },
      reserved: { usd: rUsd, tokens: rTokens },
      reservations: 1,
      refused: 0,
    });
    assert.deepEqual(budgetLeft({ usd: 1_000_000 }, spend(200_000, 50, 300_000, 10)), { usd: 500_000 });
    assert.deepEqual(budgetLeft({ usd: 100, tokens: 10 }, spend(90, 4, 50, 20)), { usd: 0, tokens: 0 });
    assert.deepEqual(budgetLeft({}, spend(1, 1, 1, 1)), {});
  });
});
