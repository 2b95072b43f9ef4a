import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TaskReducer } from "../../protocol/tasks/reducer.ts";
import { parseTaskOp, type TaskOp } from "../../protocol/tasks/ops.ts";
import { type OpKind, OPS } from "../../protocol/tasks/ops.ts";
import { effectiveStatus, queryTasks } from "../../protocol/tasks/query.ts";
import { InvalidInput } from "../../protocol/schema/input-checks.ts";

let n = 0;
function op(kind: OpKind, author: string, args: Record<string, unknown>, at = ++n * 1000): TaskOp {
  return parseTaskOp(OPS[kind].command, { ...args, at: [at, 0] }, `cid${String(n).padStart(6, "0")}`, author);
}

const T = "task0001";
const U = "task0002";
const V = "task0003";

describe("task reducer", () => {
  it("walks the lifecycle open → claimed → running → review → done with fencing", () => {
    const r = new TaskReducer();
    assert.ok(r.apply(op("create", "alice", { task: T, title: "t", review: true })).applied);
    const at = ++n * 1000;
    assert.ok(r.apply(op("claim", "bob", { task: T, fence: 1, expires: at + 60_000 }, at)).applied);
    assert.equal(r.tasks.get(T)!.status, "claimed");
    assert.equal(r.tasks.get(T)!.assignee, "bob");
    assert.ok(r.apply(op("start", "bob", { task: T, fence: 1 })).applied);
    assert.equal(r.tasks.get(T)!.status, "running");
    assert.ok(r.apply(op("result", "bob", { task: T, fence: 1, outcome: "success", manifest: "bafyabc" })).applied);
    assert.equal(r.tasks.get(T)!.status, "review");
    assert.ok(r.apply(op("review", "alice", { task: T, verdict: "approve" })).applied);
    assert.equal(r.tasks.get(T)!.status, "done");
    assert.equal(r.tasks.get(T)!.results[0].manifest, "bafyabc");
  });

  it("refuses claims on held tasks, stale fences, and results from non-holders", () => {
    const r = new TaskReducer();
    r.apply(op("create", "alice", { task: T, title: "t" }));
    const at = ++n * 1000;
    assert.ok(r.apply(op("claim", "bob", { task: T, fence: 1, expires: at + 60_000 }, at)).applied);
    const second = r.apply(op("claim", "carol", { task: T, fence: 1, expires: at + 61_000 }, at + 1));
    assert.equal(second.applied, false);
    assert.match((second as { reason: string }).reason, /held by bob/);
    assert.equal(r.apply(op("result", "carol", { task: T, fence: 1, outcome: "success" })).applied, false);
    assert.equal(r.apply(op("result", "bob", { task: T, fence: 2, outcome: "success" })).applied, false);
    assert.ok(r.apply(op("release", "bob", { task: T, fence: 1 })).applied);
    assert.equal(r.tasks.get(T)!.status, "open");
    const stale = r.apply(op("claim", "carol", { task: T, fence: 1, expires: (n + 1) * 1000 + 60_000 }));
    assert.match((stale as { reason: string }).reason, /stale claim/);
    const at2 = ++n * 1000;
    assert.ok(r.apply(op("claim", "carol", { task: T, fence: 2, expires: at2 + 60_000 }, at2)).applied);
    // The old holder's result, with its old fence, is refused.
    assert.equal(r.apply(op("result", "bob", { task: T, fence: 1, outcome: "success" })).applied, false);
  });

  it("a lapsed lease can be taken over; renewals must come before the lapse", () => {
    const r = new TaskReducer();
    r.apply(op("create", "alice", { task: T, title: "t" }, 1000));
    assert.ok(r.apply(op("claim", "bob", { task: T, fence: 1, expires: 11_000 }, 2000)).applied);
    assert.ok(r.apply(op("renew", "bob", { task: T, fence: 1, expires: 21_000 }, 10_000)).applied);
    assert.equal(r.apply(op("claim", "carol", { task: T, fence: 2, expires: 40_000 }, 20_000)).applied, false);
    assert.equal(r.apply(op("renew", "bob", { task: T, fence: 1, expires: 40_000 }, 22_000)).applied, false);
    assert.equal(effectiveStatus(r.tasks.get(T)!, 22_000), "open", "a lapsed lease reads as open");
    assert.ok(r.apply(op("claim", "carol", { task: T, fence: 2, expires: 50_000 }, 23_000)).applied);
    assert.equal(r.tasks.get(T)!.lease!.holder, "carol");
    assert.equal(r.apply(op("result", "bob", { task: T, fence: 1, outcome: "success" }, 24_000)).applied, false);
  });

  it("dependencies: runnable when done, unknown and cyclic ones refused", () => {
    const r = new TaskReducer();
    r.apply(op("create", "a", { task: T, title: "first" }));
    r.apply(op("create", "a", { task: U, title: "second", deps: [T] }));
    assert.equal(r.apply(op("create", "a", { task: V, title: "x", deps: ["nothere1"] })).applied, false);
    r.apply(op("create", "a", { task: V, title: "third", deps: [U] }));
    assert.match(
      (r.apply(op("dependency", "a", { task: T, add: V })) as { reason: string }).reason,
      /cycle/,
    );
    assert.equal(r.apply(op("dependency", "a", { task: T, add: T })).applied, false);
    const now = (n + 10) * 1000;
    assert.deepEqual(queryTasks(r, { runnable: true }, now).map((t) => t.id), [T]);
    const at = ++n * 1000;
    r.apply(op("claim", "b", { task: T, fence: 1, expires: at + 60_000 }, at));
    r.apply(op("result", "b", { task: T, fence: 1, outcome: "success" }));
    assert.deepEqual(queryTasks(r, { runnable: true }, now).map((t) => t.id), [U]);
    assert.equal(
      r.apply(op("claim", "b", { task: V, fence: 1, expires: (n + 1) * 1000 + 60_000 })).applied,
      false,
      "blocked by U",
    );
    assert.ok(r.apply(op("dependency", "a", { task: V, remove: U })).applied);
    assert.deepEqual(queryTasks(r, { runnable: true }, now).map((t) => t.id).sort(), [U, V]);
  });

  it("edits, labels, comments, close and cancel", () => {
    const r = new TaskReducer();
    r.apply(op("create", "a", { task: T, title: "t", labels: ["b", "a"] }));
    r.apply(op("edit", "a", { task: T, title: "renamed", body: "text" }));
    r.apply(op("label", "a", { task: T, add: ["c"], remove: ["a"] }));
    r.apply(op("comment", "z", { task: T, body: "hi" }));
    const t = r.tasks.get(T)!;
    assert.deepEqual([t.title, t.body, t.labels, t.comments.length], ["renamed", "text", ["b", "c"], 1]);
    assert.ok(r.apply(op("cancel", "a", { task: T })).applied);
    assert.equal(r.apply(op("close", "a", { task: T, outcome: "done" })).applied, false);
    assert.equal(r.apply(op("cancel", "a", { task: T })).applied, false);
    assert.deepEqual(queryTasks(r, { status: "cancelled", labels: ["c"] }, 0).map((x) => x.id), [T]);
    assert.equal(t.history.length, 5);
  });

  it("rejects malformed arguments before anything is applied", () => {
    const bad: Array<[OpKind, Record<string, unknown>]> = [
      ["create", { task: T, title: "" }],
      ["create", { task: "UPPER", title: "x" }],
      ["create", { task: T, title: "x", labels: ["has space"] }],
      ["create", { task: T, title: "x", extra: 1 }],
      ["claim", { task: T, fence: 0, expires: 5 }],
      ["claim", { task: T, fence: 1, expires: 1 }],
      ["claim", { task: T, fence: 1, expires: 10 ** 13 }],
      ["dependency", { task: T }],
      ["dependency", { task: T, add: U, remove: V }],
      ["result", { task: T, fence: 1, outcome: "maybe" }],
    ];
    for (const [kind, args] of bad) assert.throws(() => op(kind, "a", args, 1000), InvalidInput, JSON.stringify(args));
  });
});
