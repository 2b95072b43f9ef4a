/**
 * Placement: eligibility is strict (runner, cores, memory, gpus, tag
 * selectors, a free slot), rankings are deterministic and the same however
 * adverts are ordered, idle nodes beat busy ones, GPU nodes are kept for
 * GPU work, and a burst of tasks spreads over equal nodes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LiveAdvert } from "../../protocol/capacity/advert.ts";
import {
  assign,
  best,
  ineligibility,
  matchesSelector,
  needOf,
  rank,
  rankOf,
} from "../../protocol/scheduler/placement.ts";

function advert(node: string, over: Partial<LiveAdvert> = {}): LiveAdvert {
  return {
    node,
    at: 0,
    expires: 1e15,
    cpu: { cores: 4, load: 0 },
    memoryMb: { total: 8192, free: 6000 },
    gpus: 0,
    runners: ["wasm"],
    tags: [],
    version: "test",
    running: 0,
    slots: 4,
    ttl: 90,
    ...over,
  };
}

const need = (over: Partial<ReturnType<typeof needOf>> = {}) => ({
  runner: "wasm",
  cpu: 0,
  memoryMb: 0,
  gpu: 0,
  tags: [] as string[],
  ...over,
});

describe("placement", () => {
  it("folds the run spec's runner and memory limit into what a task needs", () => {
    const n = needOf({
      requirements: { tags: ["gpu"] },
      run: {
        runner: "wasm",
        program: "x",
        args: [],
        inputs: [],
        env: [],
        limits: { wallMs: 1000, memoryMb: 256, outputBytes: 10 },
      },
    });
    assert.deepEqual(n, { runner: "wasm", cpu: 0, memoryMb: 256, gpu: 0, tags: ["gpu"] });
    assert.equal(needOf({ requirements: { runner: "nix", memoryMb: 10 } }).memoryMb, 10);
  });

  it("is strict about every requirement and says why a node is out", () => {
    const a = advert("did:key:a", { tags: ["region=eu", "arch=x64"] });
    assert.equal(ineligibility(need(), a), undefined);
    assert.match(ineligibility(need({ runner: "nix" }), a)!, /no nix runner/);
    assert.match(ineligibility(need({ cpu: 8 }), a)!, /cores/);
    assert.match(ineligibility(need({ memoryMb: 9000 }), a)!, /MB/);
    assert.match(ineligibility(need({ gpu: 1 }), a)!, /gpus/);
    assert.match(ineligibility(need({ tags: ["region=us"] }), a)!, /tag region=us/);
    assert.match(ineligibility(need(), { ...a, slots: 0 })!, /no free slot/);
    assert.equal(ineligibility(need({ tags: ["region=eu", "arch", "!ephemeral"] }), a), undefined);
  });

  it("matches tag selectors: bare, exact value, negated; gpus and ephemeral imply their tags", () => {
    const gpu = advert("did:key:g", { gpus: 2, tags: ["zone=b"] });
    const tab = advert("did:key:t", { ephemeral: true });
    assert.ok(matchesSelector(gpu, "gpu"));
    assert.ok(matchesSelector(gpu, "zone"));
    assert.ok(matchesSelector(gpu, "zone=b"));
    assert.ok(!matchesSelector(gpu, "zone=c"));
    assert.ok(!matchesSelector(gpu, "!gpu"));
    assert.ok(matchesSelector(tab, "ephemeral"));
    assert.ok(!matchesSelector(tab, "!ephemeral"));
  });

  it("ranks the same way whatever order the adverts arrive in", () => {
    const adverts = Array.from(
      { length: 20 },
      (_, i) => advert(`did:key:n${i}`, { cpu: { cores: 4, load: (i % 5) * 0.7 }, slots: 1 + (i % 3) }),
    );
    const order = rank("task1", need(), adverts).map((a) => a.node);
    const shuffled = [...adverts].sort(() => Math.random() - 0.5);
    assert.deepEqual(rank("task1", need(), shuffled).map((a) => a.node), order);
    for (const [i, node] of order.entries()) assert.equal(rankOf("task1", need(), shuffled, node), i);
    assert.equal(best("task1", need(), shuffled)?.node, order[0]);
  });

  it("prefers idle nodes, and keeps GPU nodes for GPU work", () => {
    const idle = advert("did:key:idle");
    const busy = advert("did:key:busy", { cpu: { cores: 4, load: 4 }, running: 4, slots: 1 });
    const gpu = advert("did:key:gpu", { gpus: 1 });
    for (let i = 0; i < 50; i++) {
      assert.equal(best(`t${i}`, need(), [busy, gpu, idle])?.node, idle.node);
      assert.equal(best(`t${i}`, need({ gpu: 1 }), [busy, gpu, idle])?.node, gpu.node);
    }
    assert.equal(rankOf("t", need(), [busy, idle], "did:key:nobody"), -1);
  });

  it("spreads a burst of similar tasks over equal nodes", () => {
    const adverts = Array.from({ length: 5 }, (_, i) => advert(`did:key:eq${i}`));
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const node = best(`task-${i}`, need(), adverts)!.node;
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    assert.equal(counts.size, 5, "every equal node gets some tasks");
    for (const n of counts.values()) assert.ok(n > 50, `an even-ish spread, got ${[...counts.values()]}`);
  });

  it("leaves a task unplaced when no live node fits", () => {
    assert.equal(best("t", need({ gpu: 1 }), [advert("did:key:a"), advert("did:key:b")]), undefined);
    assert.deepEqual(rank("t", need({ tags: ["region=mars"] }), [advert("did:key:a")]), []);
  });

  it("places a burst on as many slots as the mesh has, one job per slot, the same on every node", () => {
    const adverts = Array.from({ length: 4 }, (_, i) => advert(`did:key:w${i}`));
    const jobs = Array.from({ length: 20 }, (_, i) => ({ id: `job-${i}`, need: need() }));
    const placed = assign(jobs, adverts, new Map());
    assert.equal(placed.size, 16, "four nodes of four slots take sixteen jobs; the rest wait");
    assert.deepEqual([...placed.keys()], jobs.slice(0, 16).map((j) => j.id), "oldest first");
    const perNode = Map.groupBy([...placed.values()], (n) => n);
    for (const a of adverts) assert.equal(perNode.get(a.node)?.length, 4, `${a.node} gets its four slots' worth`);
    const shuffled = [...adverts].reverse();
    assert.deepEqual([...assign(jobs, shuffled, new Map())], [...placed], "whatever order the adverts are in");
  });

  it("counts the slots a node's advert offers in all, less the jobs it holds, so its own claims change nothing", () => {
    const a = advert("did:key:a", { slots: 1, running: 1 });
    const b = advert("did:key:b", { slots: 2, running: 0 });
    const jobs = [{ id: "j1", need: need() }, { id: "j2", need: need() }, { id: "j3", need: need() }];
    const before = assign(jobs, [a, b], new Map([["did:key:a", 1]]));
    assert.equal(before.size, 3);
    // a claims the job placed on it: it now holds two, and its next advert says so; the rest stay where they were.
    const mine = [...before].find(([, n]) => n === "did:key:a")![0];
    const after = assign(
      jobs.filter((j) => j.id !== mine),
      [{ ...a, slots: 0, running: 2 }, b],
      new Map([["did:key:a", 2]]),
    );
    assert.deepEqual([...after], [...before].filter(([id]) => id !== mine));
  });

  it("places only where a job fits, and leaves it waiting when no such node has a slot", () => {
    const gpu = advert("did:key:gpu", { gpus: 1, slots: 1 });
    const plain = advert("did:key:plain", { slots: 4 });
    const placed = assign(
      [{ id: "g1", need: need({ gpu: 1 }) }, { id: "g2", need: need({ gpu: 1 }) }, { id: "p", need: need() }],
      [gpu, plain],
      new Map(),
    );
    assert.equal(placed.get("g1"), gpu.node);
    assert.equal(placed.has("g2"), false, "the one gpu slot is taken");
    assert.equal(placed.get("p"), plain.node, "a job that needs no gpu goes to the plain node");
  });
});
