/**
 * The UTF-8 helpers that skip the encoder on the paths of every source
 * unpack: a length and an order that must always equal what encoding both
 * strings and comparing the bytes gives (a packed source's canonical order
 * and ustar's bounds rest on them); and the strict decode beside them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compareBytes, compareUtf8, fromUtf8, utf8, utf8Length } from "../../protocol/bytes.ts";

/** ASCII, two- and three-byte characters, the top of the BMP, astral characters and lone surrogates. */
const SAMPLES = [
  "",
  "a",
  "bb/sh",
  "bb/shutdown",
  "é",
  "ほげ/ふが",
  "\u{e000}",
  "\u{ffff}",
  "\u{10000}",
  "😀",
  "a😀b",
  "\ud800",
  "x\udc00y",
  "\ud83dz",
];

describe("UTF-8 helpers", () => {
  it("measure a string's UTF-8 length as encoding it does", () => {
    for (const s of SAMPLES) assert.equal(utf8Length(s), utf8(s).length, JSON.stringify(s));
  });

  it("order strings as their UTF-8 bytes, where UTF-16 order differs too", () => {
    // U+E000 sorts before an astral character in UTF-8 but after it in UTF-16 units.
    assert.ok(compareUtf8("\u{e000}", "😀") < 0);
    for (const a of SAMPLES) {
      for (const b of SAMPLES) {
        assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(compareBytes(utf8(a), utf8(b))), `${a} vs ${b}`);
      }
    }
  });

  it("decode ASCII and UTF-8 alike, and refuse what is not UTF-8", () => {
    // Lone surrogates are not text: encoding turns them into U+FFFD.
    for (const s of SAMPLES.filter((x) => !/[\ud800-\udfff]/u.test(x))) {
      assert.equal(fromUtf8(utf8(s)), s);
    }
    assert.equal(fromUtf8(new Uint8Array([0x61, 0, 0x62])), "a\0b");
    assert.throws(() => fromUtf8(new Uint8Array([0x61, 0xff])), TypeError);
    assert.throws(() => fromUtf8(new Uint8Array([0xc3])), TypeError);
  });
});
