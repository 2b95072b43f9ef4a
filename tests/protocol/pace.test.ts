/**
 * The log's pacer: a long batch gives the event loop a turn once a slice
 * has passed; a batch too small to fill a slice by itself never waits for
 * one (on a busy node a turn is every socket's backlog, seconds long).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PACE_FROM, Pacer } from "../../protocol/tasks/pace.ts";

/** Keep the thread busy past one slice (40 ms), as other work interleaved with a batch does. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* spin */ }
}

describe("Pacer", () => {
  it("lets a long batch yield once a slice has passed, and not before", async () => {
    const pacer = new Pacer(PACE_FROM * 100);
    assert.equal(pacer.turn(), undefined, "within the slice: no turn");
    busy(60);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const turn = pacer.turn();
    assert.ok(turn instanceof Promise, "past the slice: a turn");
    await turn;
    assert.ok(timerRan, "the event loop had its turn (a timer set before it ran)");
    assert.equal(pacer.turn(), undefined, "a new slice starts after the turn");
  });

  it("never makes a batch smaller than a slice's worth wait, however long it has taken", () => {
    const pacer = new Pacer(PACE_FROM - 1);
    busy(60);
    assert.equal(pacer.turn(), undefined);
  });
});
