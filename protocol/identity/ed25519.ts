/**
 * Ed25519 signing and verification for every runtime.
 *
 * WebCrypto Ed25519 (Node, Deno, current Chromium) is used where the
 * runtime has it, @noble/ed25519 where it does not. Ed25519 signatures are
 * deterministic (RFC 8032), so both paths produce identical bytes; the
 * tests check that against each other.
 */
import * as noble from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { WeftError } from "../errors.ts";
import { toBase64Url } from "../bytes.ts";
import { didFromPublicKey, publicKeyFromDid } from "./did-key.ts";

noble.hashes.sha512 = sha512;

/** Something that signs as one principal. Private key material stays inside. */
export interface Signer {
  /** The principal's did:key. */
  readonly did: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Checks Ed25519 signatures by the signer's did:key. */
export interface Verifier {
  verify(did: string, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * The same check, given a SHA-256 digest the caller already holds of bytes
   * made of exactly this signature and message in a fixed layout (a UCAN
   * envelope's CID): a verifier that remembers verdicts keys on it instead of
   * hashing the message again (remembering-verifier.ts).
   */
  verifyDigested?(digest: Uint8Array, did: string, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

export class InvalidKey extends WeftError {
  constructor(message: string) {
    super("InvalidKey", "key/invalid", message);
  }
}

export type Ed25519Backend = "webcrypto" | "noble";

const ED25519 = { name: "Ed25519" } as const;

let detected: Promise<Ed25519Backend> | undefined;

/**
 * Which backend this runtime supports: WebCrypto if it can import, sign
 * and verify an Ed25519 key, otherwise noble.
 */
export function detectBackend(): Promise<Ed25519Backend> {
  detected ??= (async () => {
    try {
      const subtle = globalThis.crypto?.subtle;
      if (!subtle) return "noble";
      const seed = new Uint8Array(32).fill(1);
      const signer = await webCryptoSigner(seed);
      const msg = new Uint8Array([1, 2, 3]);
      const sig = await signer.sign(msg);
      const ok = await webCryptoVerifier().verify(signer.did, msg, sig);
      return ok ? "webcrypto" : "noble";
    } catch {
      return "noble";
    }
  })();
  return detected;
}

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new InvalidKey("an Ed25519 private key seed is exactly 32 bytes");
  }
}

/** The public key for a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  return noble.getPublicKey(seed);
}

/** A signer over @noble/ed25519 (pure JS). */
export function nobleSigner(seed: Uint8Array): Signer {
  const publicKey = publicKeyFromSeed(seed);
  const secret = seed.slice();
  return {
    did: didFromPublicKey(publicKey),
    publicKey,
    sign: (message) => Promise.resolve(noble.sign(message, secret)),
  };
}

/** A signer over a non-extractable WebCrypto key imported from a seed. */
export async function webCryptoSigner(seed: Uint8Array): Promise<Signer> {
  const publicKey = publicKeyFromSeed(seed);
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(publicKey) },
    ED25519,
    false,
    ["sign"],
  );
  return cryptoKeySigner(key, publicKey);
}

/** A signer over an existing WebCrypto private key (e.g. one kept in IndexedDB). */
export function cryptoKeySigner(privateKey: CryptoKey, publicKey: Uint8Array): Signer {
  return {
    did: didFromPublicKey(publicKey),
    publicKey,
    sign: async (message) => new Uint8Array(await crypto.subtle.sign(ED25519, privateKey, message as BufferSource)),
  };
}

/** The fastest signer this runtime offers for a 32-byte seed. */
export async function signerFromSeed(seed: Uint8Array): Promise<Signer> {
  checkSeed(seed);
  return (await detectBackend()) === "webcrypto" ? await webCryptoSigner(seed) : nobleSigner(seed);
}

/** A fresh random 32-byte seed from the platform CSPRNG. */
export function generateSeed(): Uint8Array {
  const seed = new Uint8Array(32);
  crypto.getRandomValues(seed);
  return seed;
}

function isSignatureShape(signature: Uint8Array): boolean {
  return signature instanceof Uint8Array && signature.length === 64;
}

/** A verifier over @noble/ed25519 (pure JS). */
export function nobleVerifier(): Verifier {
  return {
    verify(did, message, signature) {
      const publicKey = publicKeyFromDid(did);
      if (!isSignatureShape(signature)) return Promise.resolve(false);
      try {
        return Promise.resolve(noble.verify(signature, message, publicKey));
      } catch {
        return Promise.resolve(false);
      }
    },
  };
}

/** A verifier over WebCrypto, caching imported public keys by DID. */
export function webCryptoVerifier(cacheSize = 4096): Verifier {
  const keys = new Map<string, Promise<CryptoKey>>();
  const keyFor = (did: string): Promise<CryptoKey> => {
    let key = keys.get(did);
    if (key === undefined) {
      const raw = publicKeyFromDid(did);
      key = crypto.subtle.importKey("raw", raw as BufferSource, ED25519, false, ["verify"]);
      if (keys.size >= cacheSize) keys.delete(keys.keys().next().value as string);
      keys.set(did, key);
    }
    return key;
  };
  return {
    async verify(did, message, signature) {
      const key = keyFor(did); // throws InvalidDid for a malformed DID
      if (!isSignatureShape(signature)) return false;
      try {
        return await crypto.subtle.verify(ED25519, await key, signature as BufferSource, message as BufferSource);
      } catch {
        keys.delete(did); // a key WebCrypto refuses to import is never cached
        return false;
      }
    },
  };
}

let shared: Promise<Verifier> | undefined;

/** The process-wide verifier on the fastest available backend. */
export function defaultVerifier(): Promise<Verifier> {
  shared ??= detectBackend().then((b) => (b === "webcrypto" ? webCryptoVerifier() : nobleVerifier()));
  return shared;
}
