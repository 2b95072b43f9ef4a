/**
 * A session's counter window: each counter is taken once, out-of-order
 * arrivals within the window are taken, older ones and non-counters are
 * refused, and a jump past the window forgets what it held.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { CounterWindow, WINDOW } from "../../peer/api/counter-window.ts";

it("takes each counter once, in any order within the window", () => {
  const w = new CounterWindow();
  const order = [3, 1, 2, 40, 7, 33, 32, 64, 65, 5];
  for (const n of order) assert.equal(w.take(n), true, `first ${n}`);
  for (const n of order) assert.equal(w.take(n), false, `again ${n}`);
  assert.equal(w.top, 65);
  for (let n = 1; n <= 65; n++) if (!order.includes(n)) assert.equal(w.take(n), true, `late ${n}`);
});

it("refuses counters WINDOW or more behind the newest, and zero, negatives and non-integers", () => {
  const w = new CounterWindow();
  assert.equal(w.take(10 * WINDOW), true);
  assert.equal(w.take(9 * WINDOW), false, "exactly WINDOW behind");
  assert.equal(w.take(9 * WINDOW + 1), true, "just inside");
  for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN]) assert.equal(w.take(bad), false, `${bad}`);
});

it("a counter's slot reused by a later one does not make the later one look taken", () => {
  const w = new CounterWindow();
  assert.equal(w.take(5), true);
  assert.equal(w.take(5 + WINDOW), true, "same slot, next lap");
  assert.equal(w.take(5 + WINDOW - 1), true);
  assert.equal(w.take(5 + 2 * WINDOW + 7), true, "a jump past the window");
  assert.equal(w.take(5 + 2 * WINDOW), true, "forgotten slots are free again");
  assert.equal(w.take(5 + WINDOW), false, "now too old");
});
