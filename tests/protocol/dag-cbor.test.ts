import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkCanonical, decodeStrict, encode, MalformedCbor } from "../../protocol/codec/dag-cbor.ts";
import { fromHex } from "../../protocol/bytes.ts";
import { cidOf } from "../../protocol/codec/cid.ts";
import * as dagCbor from "@ipld/dag-cbor";

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

  it("builds the values @ipld/dag-cbor builds, at every integer and string edge", () => {
    const values: unknown[] = [
      0,
      23,
      24,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      Number.MAX_SAFE_INTEGER,
      BigInt(Number.MAX_SAFE_INTEGER) + 1n,
      2n ** 64n - 1n,
      -1,
      -24,
      -25,
      -256,
      -257,
      -(2 ** 32),
      -(2 ** 32) - 1,
      Number.MIN_SAFE_INTEGER + 1,
      Number.MIN_SAFE_INTEGER,
      BigInt(Number.MIN_SAFE_INTEGER) - 1n,
      -(2n ** 64n),
      0.5,
      -1e300,
      5e-324,
      true,
      false,
      null,
      "",
      "a".repeat(64),
      "a".repeat(65),
      "ü",
      "€😀".repeat(40),
      new Uint8Array(0),
      new Uint8Array(300).fill(7),
      [],
      [[[]]],
      {},
      cidOf(new Uint8Array([9])),
      { h: new Uint8Array([1]), "ucan/inv@1.0.0-rc.1": { args: { at: [1, 2], after: [] }, iss: "did:key:z6Mk" } },
    ];
    for (const value of values) {
      const bytes = dagCbor.encode(value);
      assert.deepEqual(decodeStrict(bytes), dagCbor.decode(bytes), `for ${dagCbor.encode(value).length} bytes`);
    }
  });

  it("copies byte strings out of the input, as @ipld/dag-cbor does", () => {
    const bytes = encode({ b: new Uint8Array([1, 2, 3]) });
    const { b } = decodeStrict<{ b: Uint8Array }>(bytes);
    bytes.fill(0);
    assert.deepEqual(b, new Uint8Array([1, 2, 3]));
  });

  it("keeps a __proto__ key as data, never as the decoded map's prototype", () => {
    // {"__proto__": {"admin": true}}
    const map = decodeStrict<Record<string, unknown>>(fromHex("a1695f5f70726f746f5f5fa16561646d696ef5"));
    assert.equal(Object.getPrototypeOf(map), Object.prototype);
    assert.equal((map as { admin?: unknown }).admin, undefined);
    assert.deepEqual(Object.keys(map), ["__proto__"]);
    assert.deepEqual(map["__proto__"], { admin: true });
  });

  it("refuses a map or array claiming more entries than there are bytes, before building anything", () => {
    assert.throws(() => decodeStrict(fromHex("9bffffffffffffffff01")), /more items than the input has bytes/);
    assert.throws(() => decodeStrict(fromHex("baffffffff6161")), /more items than the input has bytes/);
  });

  it("refuses a CID tag around bytes that are not a CID", () => {
    assert.throws(() => decodeStrict(fromHex("d82a4400010203")), /not hold a valid CID/);
  });
});
