import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkCanonical, decodeStrict, encode, MalformedCbor } from "../../protocol/codec/dag-cbor.ts";
import { fromHex } from "../../protocol/bytes.ts";
import { cidOf } from "../../protocol/codec/cid.ts";

describe("strict DAG-CBOR", () => {
  it("accepts what the canonical encoder produces", () => {
    const value = {
      a: 1,
      bb: [true, false, null, -5, 2 ** 40, 1.5, "ü", new Uint8Array([1, 2])],
      c: { z: cidOf(new Uint8Array([1])), "": 0 },
    };
    const bytes = encode(value);
    assert.deepEqual(decodeStrict(bytes), value);
  });

  const hostile: Array<[string, string]> = [
    ["trailing bytes", "0100"],
    ["truncated array", "8301"],
    ["truncated bytes", "4501"],
    ["indefinite-length array", "9f01ff"],
    ["non-minimal integer", "1801"],
    ["non-minimal length", "5801ff"],
    ["unsorted map keys", "a2616201616101"],
    ["length-first ordering violated", "a262616101616201"],
    ["duplicate map keys", "a2616101616102"],
    ["integer map key", "a10101"],
    ["tag other than 42", "c11a514b67b0"],
    ["CID tag around text", "d82a6161"],
    ["16-bit float", "f93c00"],
    ["32-bit float", "fa3f800000"],
    ["NaN", "fb7ff8000000000000"],
    ["Infinity", "fb7ff0000000000000"],
    ["undefined", "f7"],
    ["simple value", "f0"],
    ["reserved additional info", "1c"],
    ["invalid UTF-8", "62c328"],
    ["empty input", ""],
  ];
  for (const [name, hex] of hostile) {
    it(`rejects ${name} with MalformedCbor`, () => {
      assert.throws(() => decodeStrict(fromHex(hex)), MalformedCbor);
    });
  }

  it("rejects deep nesting without recursing into it", () => {
    const deep = new Uint8Array(100_000).fill(0x81);
    assert.throws(() => checkCanonical(deep, { maxBytes: 200_000 }), /nested deeper than 64/);
  });

  it("rejects inputs over the size limit", () => {
    assert.throws(() => checkCanonical(new Uint8Array(300_000)), /limit/);
  });

  it("rejects an array claiming more items than there are bytes", () => {
    assert.throws(() => checkCanonical(fromHex("9bffffffffffffffff01")), MalformedCbor);
  });
});
