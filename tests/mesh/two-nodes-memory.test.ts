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
});
