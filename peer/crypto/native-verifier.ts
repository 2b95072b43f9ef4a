/**
 * Ed25519 verification through node:crypto's synchronous one-shot verify
 * (OpenSSL), for Node and Deno shells. Same answers as the WebCrypto
 * verifier in protocol/identity, without its per-call thread-pool hop,
 * which on a small machine costs about half again the verify itself.
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { publicKeyFromDid, type Verifier } from "#protocol/identity";
import { toBase64Url } from "#protocol";

export function nativeVerifier(cacheSize = 4096): Verifier {
  const keys = new Map<string, KeyObject | null>();
  const keyFor = (did: string): KeyObject | null => {
    let key = keys.get(did);
    if (key === undefined) {
      const raw = publicKeyFromDid(did); // throws InvalidDid for a malformed DID
      try {
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: toBase64Url(raw) }, format: "jwk" });
      } catch {
        key = null; // a point OpenSSL refuses verifies nothing
      }
      if (keys.size >= cacheSize) keys.delete(keys.keys().next().value as string);
      keys.set(did, key);
    }
    return key;
  };
  return {
    verify(did, message, signature) {
      const key = keyFor(did);
      if (key === null || !(signature instanceof Uint8Array) || signature.length !== 64) return Promise.resolve(false);
      try {
        return Promise.resolve(verify(null, message, key, signature));
      } catch {
        return Promise.resolve(false);
      }
    },
  };
}
