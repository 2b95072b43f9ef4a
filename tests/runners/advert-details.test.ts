/**
 * What runners advertise beside their kinds (`runnerDetails` in a capacity
 * advert) is bounded and checked like every other advert field: flat maps
 * of short keys to short strings, finite numbers or booleans, per known
 * runner kind; anything else refuses the whole advert, naming the field.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { advertShape } from "../../protocol/capacity/advert.ts";
import { isWeftError } from "../../protocol/errors.ts";

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
