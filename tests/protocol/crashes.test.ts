/**
 * Counting a job's claims that ended without a result, from its history:
 * a claim landing on an outstanding claim means that one lapsed; releases,
 * results, closes and cancels end a claim properly; the current lease counts
 * once it has lapsed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lapsedClaims } from "../../protocol/scheduler/crashes.ts";
import type { Task } from "../../protocol/tasks/state.ts";

function task(kinds: string[], lease?: { expires: number }): Task {
  return {
    history: kinds.map((kind, i) => ({ op: `op${i}`, kind, author: "did:key:z", at: [i, 0] })),
    ...(lease ? { lease: { holder: "did:key:z", fence: 1, expires: lease.expires, claimedAt: [0, 0] } } : {}),
  } as unknown as Task;
}

describe("lapsed claims", () => {
  it("counts a claim that another claim replaced", () => {
    assert.equal(
      lapsedClaims(task(["create", "claim", "start", "renew", "claim", "start"], { expires: 2000 }), 1000),
      1,
    );
  });

  it("does not count claims that were released or answered", () => {
    assert.equal(lapsedClaims(task(["create", "claim", "start", "release", "claim", "start", "result"]), 1000), 0);
  });

  it("counts the current lease once it has lapsed", () => {
    const history = ["create", "claim", "start", "claim", "start"];
    assert.equal(lapsedClaims(task(history, { expires: 2000 }), 1000), 1);
    assert.equal(lapsedClaims(task(history, { expires: 500 }), 1000), 2);
  });
});
