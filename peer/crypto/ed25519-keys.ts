/**
 * Ed25519 public keys as node:crypto KeyObjects, imported once and kept in
 * a bounded cache, and the one-shot verify over them: shared by the native
 * verifier (keys by DID) and the verify pool's workers (keys by their
 * bytes), which load nothing of the protocol.
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { Buffer } from "node:buffer";

/** A cache of imported keys by an id; null for a point OpenSSL refuses (it verifies nothing). */
export function ed25519Keys(size = 4096): (id: string, raw: () => Uint8Array) => KeyObject | null {
  const keys = new Map<string, KeyObject | null>();
  return (id, raw) => {
    let key = keys.get(id);
    if (key === undefined) {
      const bytes = raw();
      try {
        const x = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
      } catch {
        key = null;
      }
      if (keys.size >= size) keys.delete(keys.keys().next().value as string);
      keys.set(id, key);
    }
    return key;
  };
}

/** Does `signature` (64 bytes) hold for `message` under `key`? False for anything malformed. */
export function checkSignature(key: KeyObject | null, message: Uint8Array, signature: unknown): boolean {
  if (key === null || !(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
