/**
 * The causal graph's heads, what every new operation names as its parents
 * and every API answer reports: the newest `max` of the operations nothing
 * names yet, newest first (ties by CID, larger first), the same as sorting
 * them all; kept between reads and fresh after every addition.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CausalGraph } from "../../protocol/tasks/causal.ts";
import { compareHlc, type Hlc } from "../../protocol/tasks/hlc.ts";

describe("causal graph heads", () => {
  it("are the newest operations nothing follows, newest first, as a full sort orders them", () => {
    const graph = new CausalGraph();
    const added: { cid: string; at: Hlc }[] = [];
    const parented = new Set<string>();
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 400; i++) {
      const cid = `op${String(rand(1_000_000)).padStart(7, "0")}-${i}`;
      // Some name a few earlier operations as parents; many name none (client operations without heads).
      const parents = i > 0 && rand(3) === 0 ? [added[rand(added.length)].cid] : [];
      const newest = parents.length > 0 ? added.find((a) => a.cid === parents[0])!.at : ([0, 0] as Hlc);
      const at: Hlc = [Math.max(newest[0] + 1, 1000 + rand(50)), rand(3)];
      graph.add({ cid, at, author: "did:key:a", parents });
      for (const p of parents) parented.add(p);
      added.push({ cid, at });
      const expected = added
        .filter((a) => !parented.has(a.cid))
        .sort((a, b) => compareHlc(b.at, a.at) || (a.cid < b.cid ? 1 : -1))
        .slice(0, 16)
        .map((a) => a.cid);
      assert.deepEqual(graph.heads(16), expected, `after ${i + 1} operations`);
      assert.deepEqual(graph.heads(16), expected, "the same when read again");
    }
    assert.deepEqual(graph.heads(3), graph.heads(16).slice(0, 3));
  });
});
