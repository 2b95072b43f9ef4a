/**
 * What runners advertise beside their kinds (`runnerDetails` in a capacity
 * advert) is bounded and checked like every other advert field: flat maps
 * of short keys to short strings, finite numbers or booleans, per known
 * runner kind; anything else refuses the whole advert, naming the field.
 * They are read at every advert, and a runner whose details change (a
 * cluster's spare capacity) has the node advertise again at once. A
 * period whose adverts would outlive the longest TTL is refused up front.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { advertShape } from "../../protocol/capacity/advert.ts";
import { CapacityAdvertiser, MAX_ADVERT_PERIOD_MS } from "../../protocol/capacity/advertiser.ts";
import { isWeftError } from "../../protocol/errors.ts";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import { startCompute } from "../../protocol/scheduler/compute.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, memoryNode } from "../helpers/nodes.ts";

const base = {
  cpu: { cores: 2, load: 0.5 },
  memoryMb: { total: 2048, free: 1024 },
  gpus: 0,
  runners: ["wasm", "nix"],
  tags: [],
  version: "test",
  running: 0,
  slots: 2,
  ttl: 30,
};

describe("runner details in capacity adverts", () => {
  it("carries each runner's flat details, and may be absent", () => {
    const runnerDetails = {
      wasm: { sandbox: "node subprocess" },
      nix: { system: "x86_64-linux", sandboxed: true, jobs: 4 },
    };
    assert.deepEqual(advertShape({ ...base, runnerDetails }, "advert").runnerDetails, runnerDetails);
    assert.equal(advertShape(base, "advert").runnerDetails, undefined);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ["a nested map", { wasm: { limits: { memory: 1 } } }, /advert\.runnerDetails\.wasm\.limits must be a string/],
    [
      "a long string",
      { wasm: { sandbox: "x".repeat(129) } },
      /advert\.runnerDetails\.wasm\.sandbox must be a string of at most 128/,
    ],
    ["a key that is not a name", { wasm: { "has space": 1 } }, /advert\.runnerDetails\.wasm\.has space must be a key/],
    [
      "a kind that is not a runner kind",
      { "Not A Kind": {} },
      /advert\.runnerDetails\.Not A Kind must be a runner kind/,
    ],
    [
      "too many keys",
      { wasm: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) },
      /at most 16 keys/,
    ],
    [
      "too many kinds",
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, {}])),
      /at most 16 runner kinds/,
    ],
    ["a list", [{ sandbox: "x" }], /advert\.runnerDetails must be a map/],
    ["a number that is not finite", { wasm: { jobs: Infinity } }, /advert\.runnerDetails\.wasm\.jobs must be/],
  ];
  for (const [what, runnerDetails, message] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => advertShape({ ...base, runnerDetails }, "advert"), (e) => {
        assert.ok(isWeftError(e, "input/invalid"));
        assert.match((e as Error).message, message);
        return true;
      });
    });
  }
});

describe("runner details in a node's adverts", () => {
  it("are read at every advert, and a change a runner reports is advertised at once", async () => {
    const { node } = await memoryNode();
    const space = await node.createSpace("details");
    let spare = 4000;
    const changed = new Set<() => void>();
    const runner: ManagedRunner = {
      kind: "kubernetes",
      available: () => Promise.resolve(true),
      start: () => {
        throw new Error("no job is placed here");
      },
      advertise: () => ({ cpuMillis: spare }),
      onAdvertChange(listener) {
        changed.add(listener);
        return () => changed.delete(listener);
      },
      warmUp: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    // Minutes between periodic adverts: only the runner's report can bring the change out in this test.
    const compute = startCompute(node, {
      runners: [runner],
      slots: 1,
      store: new MemoryContentStore(),
      machine: () => ({ ...base, runners: [], running: 0, slots: 0 }),
      advertiseMs: 150_000,
      publish: () => Promise.resolve(undefined),
    });
    try {
      await compute.advertised;
      const mine = () => node.gossip(space.id)!.adverts().find((a) => a.node === node.did);
      assert.equal(mine()?.runnerDetails?.kubernetes?.cpuMillis, 4000);
      spare = 3750;
      for (const listener of changed) listener();
      await eventually(() => mine()?.runnerDetails?.kubernetes?.cpuMillis === 3750, 10_000, "the fresh advert");
    } finally {
      await compute.stop();
      await node.stop();
    }
    assert.equal(changed.size, 0, "stopping unsubscribes");
  });
});

describe("the advert period", () => {
  it("is refused past 200 s, whose adverts would outlive the longest TTL (600 s) every node accepts", async () => {
    const { node } = await memoryNode();
    const space = await node.createSpace("period");
    const offer = () => ({ ...base, runners: [], running: 0, slots: 0 });
    try {
      assert.throws(
        () => new CapacityAdvertiser(node, offer, 201_000),
        (e: unknown) => isWeftError(e) && /at most 200 s/.test((e as Error).message),
      );
      const longest = new CapacityAdvertiser(node, offer, MAX_ADVERT_PERIOD_MS);
      await longest.advertise();
      await longest.stop();
      const mine = node.gossip(space.id)!.adverts().find((a) => a.node === node.did);
      assert.equal(mine?.ttl, 600, "the longest period's advert goes out, living three periods");
    } finally {
      await node.stop();
    }
  });
});
