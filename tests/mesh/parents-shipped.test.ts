/**
 * An operation heard only outside the documents — a lease renewal on
 * gossip, whose author died before its own documents synced — must not
 * strand what is built on it. Here d signs a comment while cut off and it
 * reaches b alone, as gossip would carry it; b then writes an operation
 * whose parents name it. c, which never heard d's operation, must still
 * apply b's: b ships every parent it names in its own documents. The same
 * holds for a node's own operation that the reducer refused (a renewal
 * racing a cancel): not written, yet named by the node's next operation —
 * and for two refused in a row, the next operation naming only the second
 * (a paused agent's comment and release, then its request once resumed).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, link, memoryNode } from "../helpers/nodes.ts";

describe("causal parents", () => {
  it("an operation built on one heard only on gossip reaches a node that never heard it", async () => {
    const [a, b, c, d] = await Promise.all([memoryNode(), memoryNode(), memoryNode(), memoryNode()]);
    try {
      const space = await a.node.createSpace("team");
      const t = await space.createTask({ title: "lease me" });
      const joined = new Map<string, Awaited<ReturnType<typeof a.node.join>>>();
      for (const [name, x] of [["b", b], ["c", c], ["d", d]] as const) {
        const invite = await a.node.invite(space.id, { audience: x.node.did, name });
        link(a, x);
        joined.set(name, await x.node.join(invite, { signal: AbortSignal.timeout(15_000) }));
      }
      link(b, c);
      const [onB, onC, onD] = ["b", "c", "d"].map((n) => joined.get(n)!);
      await eventually(() => onD.task(t.id), 15_000, "the task on d");

      // d is cut off, then signs a comment; its documents go nowhere.
      d.memory!.disconnect();
      const before = new Set(onD.log.reducer.tasks.get(t.id)!.comments.map((x) => x.id));
      await onD.act("comment", { task: t.id, body: "from d, cut off" });
      const dOp = onD.log.reducer.tasks.get(t.id)!.comments.find((x) => !before.has(x.id))!.id;
      let bytes: Uint8Array | undefined;
      for (const id of onD.documentIds.slice(1)) {
        bytes ??= (await d.node.repo.find<{ ops: Record<string, Uint8Array> }>(id)).doc().ops?.[dOp];
      }
      assert.ok(bytes, "d's operation is in d's own bucket");

      // It reaches b as gossip would bring it; b builds on it.
      await onB.ingest(bytes);
      assert.ok(onB.log.has(dOp), "b took d's operation in");
      await onB.act("comment", { task: t.id, body: "from b, after d's" });
      const bOp = onB.log.reducer.tasks.get(t.id)!.comments.at(-1)!.id;
      assert.ok(onB.log.op(bOp)!.args.after?.includes(dOp), "b's operation names d's as a parent");

      // c never heard d's operation, yet applies b's (and d's, which b shipped with it).
      await eventually(() => onC.log.has(bOp) && onC.log.pendingCount === 0, 15_000, "b's operation applied on c");
      assert.ok(onC.log.has(dOp));
      assert.deepEqual(
        onC.task(t.id)!.comments.map((x) => x.body).slice(-2),
        ["from d, cut off", "from b, after d's"],
      );
    } finally {
      await Promise.all([a, b, c, d].map((x) => x.node.stop()));
    }
  });

  it("an operation built on one of this node's own that the reducer refused reaches the others", async () => {
    const [a, b] = await Promise.all([memoryNode(), memoryNode()]);
    try {
      const space = await a.node.createSpace("team");
      const t = await space.createTask({ title: "cancelled while its holder renews" });
      const invite = await a.node.invite(space.id, { audience: b.node.did, name: "b" });
      link(a, b);
      const onB = await b.node.join(invite, { signal: AbortSignal.timeout(15_000) });
      await space.act("cancel", { task: t.id });
      // A renewal racing the cancel: signed, valid, in a's log — and refused by the reducer, so not written.
      const refused = space.log.size;
      await assert.rejects(space.renew(t.id, 1, 5_000), /cancelled|not held|held by|lease/i);
      assert.equal(space.log.size, refused + 1, "the refused renewal is in a's log");
      const next = await space.createTask({ title: "made after it" });
      const create = space.log.reducer.tasks.get(next.id)!.history[0].op;
      const renewal = space.log.op(create)!.args.after!.find((p) => space.log.op(p)?.kind === "renew");
      assert.ok(renewal, "the next operation names the refused renewal as a parent");
      await eventually(() => onB.task(next.id) !== undefined && onB.log.pendingCount === 0, 15_000, "b applies it");
      assert.ok(onB.log.has(renewal), "the renewal reached b with it");
    } finally {
      await Promise.all([a, b].map((x) => x.node.stop()));
    }
  });

  it("an operation built on two refused ones in a row reaches the others with both", async () => {
    const [a, b] = await Promise.all([memoryNode(), memoryNode()]);
    try {
      const space = await a.node.createSpace("team");
      const t = await space.createTask({ title: "cancelled while its holder renews twice" });
      const invite = await a.node.invite(space.id, { audience: b.node.did, name: "b" });
      link(a, b);
      const onB = await b.node.join(invite, { signal: AbortSignal.timeout(15_000) });
      await space.act("cancel", { task: t.id });
      await assert.rejects(space.renew(t.id, 1, 5_000), /cancelled|not held|held by|lease/i);
      const first = space.log.heads()[0];
      await assert.rejects(space.renew(t.id, 1, 6_000), /cancelled|not held|held by|lease/i);
      const second = space.log.heads()[0];
      assert.notEqual(first, second);
      assert.ok(space.log.op(second)!.args.after?.includes(first), "the second refused renewal names the first");
      const next = await space.createTask({ title: "made after both" });
      const create = space.log.reducer.tasks.get(next.id)!.history[0].op;
      assert.ok(!space.log.op(create)!.args.after!.includes(first), "the next operation names only the second");
      await eventually(() => onB.task(next.id) !== undefined && onB.log.pendingCount === 0, 15_000, "b applies it");
      assert.ok(onB.log.has(first) && onB.log.has(second), "both refused renewals reached b with it");
    } finally {
      await Promise.all([a, b].map((x) => x.node.stop()));
    }
  });
});
