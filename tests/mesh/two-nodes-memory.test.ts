/**
 * Two nodes over in-process channels: joining with an invite, tasks both
 * ways, and a session that stays up however often membership changes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, link, memoryNode } from "../helpers/nodes.ts";

describe("two nodes over in-process channels", () => {
  it("a member joins with an invite and tasks flow both ways", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const space = await a.node.createSpace("team");
      const invite = await a.node.invite(space.id, { audience: b.node.did, name: "bob" });
      link(a, b);
      const joined = await b.node.join(invite, { signal: AbortSignal.timeout(10_000) });
      assert.equal(joined.id, space.id);
      assert.equal(joined.name, "team");
      const t = await space.createTask({ title: "write docs", labels: ["docs"] });
      const seen = await eventually(() => joined.task(t.id), 10_000, "task on b");
      assert.equal(seen?.title, "write docs");
      const t2 = await joined.createTask({ title: "from b" });
      await eventually(() => space.task(t2.id), 10_000, "task on a");
      assert.deepEqual(space.members().map((m) => m.did).sort(), [a.node.did, b.node.did].sort());
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });

  it("a session outlasts hundreds of membership changes", async () => {
    // Each change makes both sides prove again; the proofs must replace the old ones, not pile up
    // until the session hits its limit and closes.
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const space = await a.node.createSpace("busy");
      link(a, b);
      const joined = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
        signal: AbortSignal.timeout(10_000),
      });
      const session = [...a.memory!.sessions.values()][0];
      assert.ok(session, "a has a session with b");
      for (let i = 0; i < 300; i++) await a.node.invite(space.id);
      await eventually(() => [...joined.authority.delegations].length > 300, 30_000, "b has every delegation");
      const t = await space.createTask({ title: "after the churn" });
      await eventually(() => joined.task(t.id), 10_000, "task on b");
      assert.equal([...a.memory!.sessions.values()][0], session, "still the same session");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });
});
