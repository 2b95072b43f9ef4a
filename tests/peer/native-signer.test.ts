/**
 * The peer's node:crypto Ed25519 keys (peer/crypto/native-signer.ts) give
 * the same public keys and signatures as RFC 8032 and as the pure-JS
 * path in protocol/identity, and refuse a seed of the wrong size.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nativePublicKeyFromSeed, nativeSigner } from "../../peer/crypto/native-signer.ts";
import { generateSeed, nobleSigner, publicKeyFromSeed } from "../../protocol/identity/index.ts";
import { fromHex, toHex } from "../../protocol/bytes.ts";

// RFC 8032 section 7.1, TEST 2 and TEST 3.
const VECTORS = [
  {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    msg: "72",
    sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    pub: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    msg: "af82",
    sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

describe("native Ed25519 keys", () => {
  it("derive RFC 8032's public keys and signatures", async () => {
    for (const v of VECTORS) {
      assert.equal(toHex(nativePublicKeyFromSeed(fromHex(v.seed))), v.pub);
      const signer = nativeSigner(fromHex(v.seed));
      assert.equal(toHex(signer.publicKey), v.pub);
      assert.equal(toHex(await signer.sign(fromHex(v.msg))), v.sig);
    }
  });

  it("agree with the pure-JS path on random seeds", async () => {
    const msg = new TextEncoder().encode("same bytes everywhere");
    for (let i = 0; i < 20; i++) {
      const seed = generateSeed();
      assert.deepEqual(nativePublicKeyFromSeed(seed), publicKeyFromSeed(seed));
      const native = nativeSigner(seed);
      const noble = nobleSigner(seed);
      assert.equal(native.did, noble.did);
      assert.deepEqual(await native.sign(msg), await noble.sign(msg));
    }
  });

  it("refuse a seed that is not 32 bytes", () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
      assert.throws(() => nativePublicKeyFromSeed(bad), { code: "key/invalid" });
      assert.throws(() => nativeSigner(bad), { code: "key/invalid" });
    }
  });
});
