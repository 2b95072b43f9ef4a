/**
 * CIDv1 (sha2-256) of encoded blocks, computed synchronously so hot paths
 * (verification caches, replay checks) need no await; the hash is the
 * installed one (sha256.ts).
 */
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "./sha256.ts";

export const DAG_CBOR = 0x71;
export const DAG_JSON = 0x0129;
export const RAW = 0x55;
/** The multihash code of SHA-256, the hash of every CID made here. */
export const SHA2_256 = 0x12;

export function cidOf(bytes: Uint8Array, codec: number = DAG_CBOR): CID {
  return CID.createV1(codec, Digest.create(SHA2_256, sha256(bytes)));
}

/**
 * A compact map key for a CID: its binary form as a latin-1 string.
 * Much cheaper than the base32 text form on hot paths; not for display.
 */
export function cidKey(cid: CID): string {
  const b = cid.bytes;
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export { CID };
