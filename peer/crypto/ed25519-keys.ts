/**
 * Ed25519 public keys as node:crypto KeyObjects, made once per key and kept
 * (bounded), and a signature check that never throws: what the native
 * verifier and the verification pool's threads share. A node verifies the
 * same few members' keys again and again, and making a KeyObject costs
 * about as much as the verify itself.
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { toBase64Url } from "#protocol";

/** A cache of KeyObjects by an id the caller chooses (a DID, a key's base64url); `raw` gives the 32-byte key. */
export function ed25519Keys(size = 4096): (id: string, raw: () => Uint8Array) => KeyObject | null {
  const keys = new Map<string, KeyObject | null>();
  return (id, raw) => {
    let key = keys.get(id);
    if (key === undefined) {
      const bytes = raw(); // may throw for a malformed id: the caller's error to report
      try {
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: toBase64Url(bytes) }, format: "jwk" });
      } catch {
        key = null; // a point OpenSSL refuses verifies nothing
      }
      if (keys.size >= size) keys.delete(keys.keys().next().value as string);
      keys.set(id, key);
    }
    return key;
  };
}

/** Whether `signature` is `key`'s over `message`; false for anything malformed. */
export function checkSignature(key: KeyObject | null, message: Uint8Array, signature: unknown): boolean {
  if (key === null || !(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
