import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defaultVerifier,
  detectBackend,
  didFromPublicKey,
  generateSeed,
  InvalidDid,
  isDidKey,
  nobleSigner,
  nobleVerifier,
  publicKeyFromDid,
  signerFromSeed,
  webCryptoSigner,
  webCryptoVerifier,
} from "../../protocol/identity/index.ts";
import { didFromPeerId, peerIdFromDid } from "../../protocol/identity/peer-id.ts";
import { fromHex, toHex, utf8 } from "../../protocol/bytes.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";

// RFC 8032 section 7.1, TEST 2 (one-byte message).
const RFC_SEED = fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
const RFC_PUB = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const RFC_MSG = fromHex("72");
const RFC_SIG = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

describe("did:key", () => {
  it("round-trips an Ed25519 public key", () => {
    const pub = fromHex(RFC_PUB);
    const did = didFromPublicKey(pub);
    assert.match(did, /^did:key:z6Mk/);
    assert.deepEqual(publicKeyFromDid(did), pub);
    assert.ok(isDidKey(did));
  });

  it("matches a published did:key test vector", () => {
    // From the W3C did:key test vectors (Ed25519).
    const did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    assert.equal(didFromPublicKey(publicKeyFromDid(did)), did);
  });

  for (
    const [name, bad] of [
      ["another method", "did:web:example.com"],
      ["not base58btc", "did:key:uABC"],
      ["bad base58 characters", "did:key:z0OIl"],
      ["a secp256k1 key", "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"],
      ["a truncated key", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo"],
      ["an over-long string", "did:key:z" + "1".repeat(5000)],
      ["empty", ""],
    ]
  ) {
    it(`rejects ${name} with InvalidDid`, () => {
      assert.throws(() => publicKeyFromDid(bad), InvalidDid);
      assert.equal(isDidKey(bad), false);
    });
  }
});

describe("Ed25519 signers and verifiers", () => {
  it("uses WebCrypto on this runtime", async () => {
    assert.equal(await detectBackend(), "webcrypto");
  });

  it("noble and WebCrypto match RFC 8032 and each other", async () => {
    const a = nobleSigner(RFC_SEED);
    const b = await webCryptoSigner(RFC_SEED);
    assert.equal(toHex(a.publicKey), RFC_PUB);
    assert.equal(a.did, b.did);
    assert.equal(toHex(await a.sign(RFC_MSG)), RFC_SIG);
    assert.equal(toHex(await b.sign(RFC_MSG)), RFC_SIG);
  });

  it("both paths agree on random keys and messages, and cross-verify", async () => {
    const nv = nobleVerifier();
    const wv = webCryptoVerifier();
    for (let i = 0; i < 25; i++) {
      const seed = generateSeed();
      const msg = crypto.getRandomValues(new Uint8Array(i * 37));
      const s1 = await nobleSigner(seed).sign(msg);
      const s2 = await (await webCryptoSigner(seed)).sign(msg);
      assert.deepEqual(s1, s2);
      const did = nobleSigner(seed).did;
      assert.ok(await nv.verify(did, msg, s2));
      assert.ok(await wv.verify(did, msg, s1));
      const tampered = s1.slice();
      tampered[i % 64] ^= 1;
      assert.equal(await nv.verify(did, msg, tampered), false);
      assert.equal(await wv.verify(did, msg, tampered), false);
    }
  });

  it("refuses signatures of the wrong length and by other keys", async () => {
    const v = await defaultVerifier();
    const s = await signerFromSeed(generateSeed());
    const other = await signerFromSeed(generateSeed());
    const msg = utf8("hello");
    const sig = await s.sign(msg);
    assert.equal(await v.verify(s.did, msg, sig.subarray(0, 63)), false);
    assert.equal(await v.verify(other.did, msg, sig), false);
    assert.equal(await v.verify(s.did, utf8("hellO"), sig), false);
  });

  it("rejects seeds that are not 32 bytes", async () => {
    await assert.rejects(signerFromSeed(new Uint8Array(31)), { code: "key/invalid" });
    assert.throws(() => nobleSigner(new Uint8Array(64)), { code: "key/invalid" });
  });
});

describe("PeerId", () => {
  it("is the same key as the did:key, both ways", async () => {
    const s = await signerFromSeed(generateSeed());
    const peerId = peerIdFromDid(s.did);
    assert.equal(peerId.type, "Ed25519");
    assert.equal(didFromPeerId(peerId), s.did);
    assert.equal(didFromPeerId(peerId.toString()), s.did);
  });

  it("matches a libp2p-generated peer", async () => {
    const key = await generateKeyPair("Ed25519");
    const peerId = peerIdFromPrivateKey(key);
    assert.equal(peerIdFromDid(didFromPeerId(peerId)).toString(), peerId.toString());
  });

  it("rejects non-Ed25519 and garbage peer ids", async () => {
    const key = await generateKeyPair("secp256k1");
    assert.throws(() => didFromPeerId(peerIdFromPrivateKey(key)), InvalidDid);
    assert.throws(() => didFromPeerId("not-a-peer-id"), InvalidDid);
  });
});
