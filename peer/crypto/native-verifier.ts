/**
 * Ed25519 verification through node:crypto's synchronous one-shot verify
 * (OpenSSL), for Node and Deno shells. Same answers as the WebCrypto
 * verifier in protocol/identity, without its per-call thread-pool hop,
 * which on a small machine costs about half again the verify itself.
 */
import { publicKeyFromDid, type Verifier } from "#protocol/identity";
import { checkSignature, ed25519Keys } from "./ed25519-keys.ts";

export function nativeVerifier(cacheSize = 4096): Verifier {
  const keyFor = ed25519Keys(cacheSize);
  return {
    verify(did, message, signature) {
      const key = keyFor(did, () => publicKeyFromDid(did)); // throws InvalidDid for a malformed DID
      return Promise.resolve(checkSignature(key, message, signature));
    },
  };
}
