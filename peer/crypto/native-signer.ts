/**
 * Ed25519 keys through node:crypto (Node and Deno): the public key derived
 * natively (OpenSSL) from the seed, and signing that is synchronous under
 * its promise, so a burst of operations is signed without yielding to the
 * event loop between them (WebCrypto's sign hops to a thread pool each
 * time). Same bytes as every other signer: Ed25519 is deterministic.
 *
 * Deriving the public key here rather than with protocol/identity's
 * pure-JS publicKeyFromSeed matters at start-up: @noble/ed25519 builds its
 * base-point tables on first use, which cost a CLI command more than Node
 * itself takes to start.
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { didFromPublicKey, InvalidKey, type Signer } from "#protocol/identity";

/** RFC 8410's PKCS#8 wrapping of a 32-byte Ed25519 seed: this prefix, then the seed. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
/** A SubjectPublicKeyInfo of an Ed25519 key ends with the raw 32-byte key. */
const RAW_KEY_BYTES = 32;

function privateKeyOf(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new InvalidKey("an Ed25519 private key seed is exactly 32 bytes");
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
}

function publicKeyOf(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  return new Uint8Array(spki.subarray(spki.length - RAW_KEY_BYTES));
}

/** The raw 32-byte Ed25519 public key for a seed, derived natively. */
export function nativePublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return publicKeyOf(privateKeyOf(seed));
}

export function nativeSigner(seed: Uint8Array): Signer {
  const key = privateKeyOf(seed);
  const publicKey = publicKeyOf(key);
  return {
    did: didFromPublicKey(publicKey),
    publicKey,
    sign: (message) => Promise.resolve(new Uint8Array(sign(null, message, key))),
  };
}
