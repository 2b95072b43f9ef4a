/**
 * Ed25519 signing through node:crypto (Node and Deno): synchronous under
 * its promise, so a burst of operations is signed without yielding to the
 * event loop between them (WebCrypto's sign hops to a thread pool each
 * time). Same bytes as every other signer: Ed25519 is deterministic.
 */
import { createPrivateKey, sign } from "node:crypto";
import { didFromPublicKey, publicKeyFromSeed, type Signer } from "#protocol/identity";
import { toBase64Url } from "#protocol";

export function nativeSigner(seed: Uint8Array): Signer {
  const publicKey = publicKeyFromSeed(seed);
  const key = createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(publicKey) },
    format: "jwk",
  });
  return {
    did: didFromPublicKey(publicKey),
    publicKey,
    sign: (message) => Promise.resolve(new Uint8Array(sign(null, message, key))),
  };
}
