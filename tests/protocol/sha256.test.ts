import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sha256 as builtin } from "@noble/hashes/sha2.js";
import { cidOf } from "../../protocol/codec/cid.ts";
import { useSha256 } from "../../protocol/codec/sha256.ts";
import { isWeftError } from "../../protocol/errors.ts";

describe("an installed SHA-256", () => {
  const token = new TextEncoder().encode("a token's bytes");
  const expected = cidOf(token).toString();

  it("is refused when it is wrong anywhere across the padding edges, and the built-in one stays", () => {
    // Right for short inputs, wrong from the second block on: only a probe past 55 bytes can tell.
    const wrongPastOneBlock = (b: Uint8Array) => (b.length < 56 ? builtin(b) : builtin(b.subarray(1)));
    for (const impl of [wrongPastOneBlock, () => new Uint8Array(32), (b: Uint8Array) => builtin(b).subarray(0, 31)]) {
      assert.throws(() => useSha256(impl), (e) => isWeftError(e, "internal") && /wrong digest/.test(e.message));
      assert.equal(cidOf(token).toString(), expected);
    }
  });

  it("is used for CIDs once it gives the same digests", () => {
    let calls = 0;
    useSha256((b) => {
      calls++;
      return builtin(b);
    });
    try {
      const before = calls;
      assert.equal(cidOf(token).toString(), expected);
      assert.equal(calls, before + 1);
    } finally {
      useSha256(builtin);
    }
  });
});
