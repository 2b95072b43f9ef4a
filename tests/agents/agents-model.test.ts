/**
 * How the dashboard's Agents view says money and budgets
 * (pwa/src/model/agents.ts): exact to the micro-dollar, so what is left of
 * a budget after a few cheap calls does not read as the whole budget.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { budgetWords, usd } from "../../pwa/src/model/agents.ts";

describe("money in the Agents view", () => {
  it("shows whole cents as cents and anything finer exactly", () => {
    assert.deepEqual(
      [0, 10_000, 1_000_000, 5_000_000, 999_720, 280, 123_456_789].map(usd),
      ["$0.00", "$0.01", "$1.00", "$5.00", "$0.99972", "$0.00028", "$123.456789"],
    );
  });

  it("says a budget in words", () => {
    assert.equal(budgetWords({ usd: 5_000_000 }), "$5.00");
    assert.equal(
      budgetWords({ usd: 5_000_000, tokens: 100_000, dayUsd: 1_000_000 }),
      "$5.00 and 100,000 tokens, $1.00 a day",
    );
    assert.equal(budgetWords({}), "no bound of its own");
  });
});
