/**
 * The dashboard's reading of an agent loop's state as a peer's API sends it
 * (pwa/src/model/agent-loop.ts, `parseLoop`): the fields it shows are taken
 * only in the shapes it expects and bounded, so a peer that sends too much
 * or the wrong thing gets a short, well-formed view, never a crash or an
 * unbounded page.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseLoop } from "../../pwa/src/model/agent-loop.ts";

describe("an agent loop's state from a peer", () => {
  it("keeps what a peer's answer says, in its shapes", () => {
    const loop = parseLoop({
      name: "fixer",
      loop: {
        agent: "fixer",
        task: "abcdefgh12",
        step: "thinking",
        turn: 2,
        job: "run1234567",
        startedAt: 1_800_000_000_000,
        timings: { thinking: 10 },
        transcript: [{ role: "assistant", content: '{"tool":"list_files"}', at: 1_800_000_000_001 }],
        outcome: { kind: "stopped", reason: "paused" },
      },
    });
    assert.deepEqual(loop, {
      step: "thinking",
      turn: 2,
      startedAt: 1_800_000_000_000,
      task: "abcdefgh12",
      job: "run1234567",
      transcript: [{ role: "assistant", content: '{"tool":"list_files"}', at: 1_800_000_000_001 }],
      outcome: { kind: "stopped", reason: "paused" },
    });
  });

  it("says there is no loop when the answer holds none, or a malformed one", () => {
    assert.equal(parseLoop({ name: "fixer" }), undefined);
    assert.equal(parseLoop(null), undefined);
    assert.equal(parseLoop({ loop: "thinking" }), undefined);
    assert.equal(parseLoop({ loop: { step: 3 } }), undefined);
  });

  it("bounds what it keeps and drops entries of the wrong shape", () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ role: "user", content: "x".repeat(100_000), at: i }));
    const loop = parseLoop({
      loop: {
        step: "s".repeat(1000),
        turn: "many",
        transcript: [{ role: "root", content: "ignore me" }, 7, null, ...many],
        outcome: { kind: { nested: true } },
        task: { not: "a string" },
      },
    })!;
    assert.equal(loop.step.length, 32);
    assert.equal(loop.turn, 0);
    assert.equal(loop.transcript.length, 200, "the newest 200 entries");
    assert.ok(loop.transcript.every((e) => e.role === "user" && e.content.length === 16_000));
    assert.equal(loop.outcome, undefined);
    assert.equal(loop.task, undefined);
  });
});
