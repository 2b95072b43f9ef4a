/**
 * `did:key` for Ed25519 public keys (W3C CCG did:key method):
 * `did:key:z` + base58btc(varint(0xed) ‖ 32-byte public key).
 *
 * Decoding is strict: only Ed25519 keys are accepted (Weft signs with
 * nothing else), and any other multicodec or length is a typed error.
 */
import { base58btc } from "multiformats/bases/base58";
import { WeftError } from "../errors.ts";

export class InvalidDid extends WeftError {
  constructor(did: unknown, why: string) {
    const shown = typeof did === "string" ? JSON.stringify(did.slice(0, 80)) : typeof did;
    super("InvalidDid", "did/invalid", `${shown} is not a usable did:key: ${why}`);
  }
}

/** Multicodec ed25519-pub (0xed) as an unsigned varint. */
const ED25519_PUB_PREFIX = [0xed, 0x01];
const PREFIX = "did:key:";
/** Longest valid Ed25519 did:key: avoids base58-decoding huge hostile strings. */
const MAX_DID_LENGTH = 64;

export function didFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) {
    throw new InvalidDid(undefined, `an Ed25519 public key has 32 bytes, got ${publicKey.length}`);
  }
  const bytes = new Uint8Array(34);
  bytes.set(ED25519_PUB_PREFIX, 0);
  bytes.set(publicKey, 2);
  return PREFIX + base58btc.encode(bytes);
}

const cache = new Map<string, Uint8Array>();
const CACHE_LIMIT = 4096;

/** The 32-byte Ed25519 public key of a did:key, or InvalidDid. */
export function publicKeyFromDid(did: string): Uint8Array {
  const hit = cache.get(did);
  if (hit !== undefined) return hit;
  if (typeof did !== "string") throw new InvalidDid(did, "expected a string");
  if (!did.startsWith(PREFIX)) throw new InvalidDid(did, "only the did:key method is supported");
  if (did.length > MAX_DID_LENGTH) throw new InvalidDid(did, "too long for an Ed25519 did:key");
  const id = did.slice(PREFIX.length);
  if (!id.startsWith("z")) throw new InvalidDid(did, "the key must be base58btc (multibase prefix 'z')");
  let bytes: Uint8Array;
  try {
    bytes = base58btc.decode(id);
  } catch {
    throw new InvalidDid(did, "the key is not valid base58btc");
  }
  if (bytes[0] !== ED25519_PUB_PREFIX[0] || bytes[1] !== ED25519_PUB_PREFIX[1]) {
    throw new InvalidDid(did, "only Ed25519 keys (multicodec 0xed) are supported");
  }
  if (bytes.length !== 34) throw new InvalidDid(did, `an Ed25519 key has 32 bytes, got ${bytes.length - 2}`);
  const key = bytes.slice(2);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(did, key);
  return key;
}

/** True for a well-formed Ed25519 did:key. */
export function isDidKey(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    publicKeyFromDid(value);
    return true;
  } catch {
    return false;
  }
}
