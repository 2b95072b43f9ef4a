import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sha256 as builtin } from "@noble/hashes/sha2.js";
import { cidOf } from "../../protocol/codec/cid.ts";
import { useSha256 } from "../../protocol/codec/sha256.ts";
import { installNativeSha256 } from "../../peer/crypto/native-sha256.ts";

describe("the peer's native SHA-256", () => {
  it("is accepted by protocol/ and gives the same CIDs as the built-in one", () => {
    const inputs = [0, 1, 55, 56, 64, 406, 65_536].map((n) => crypto.getRandomValues(new Uint8Array(n)));
    const before = inputs.map((b) => cidOf(b).toString());
    installNativeSha256();
    try {
      assert.deepEqual(inputs.map((b) => cidOf(b).toString()), before);
    } finally {
      useSha256(builtin);
    }
  });
});
