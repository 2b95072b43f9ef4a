/**
 * SHA-256 for artifacts, computed as bytes stream past: an incremental
 * hasher interface (a shell can plug in a native one; the peer does) with
 * a portable @noble/hashes implementation, and the CIDv1 (raw codec,
 * sha2-256) that names the same bytes in run specs and content stores.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { fromHex, toHex } from "../bytes.ts";
import { RAW, SHA2_256 } from "../codec/cid.ts";
import { ArtifactError } from "./errors.ts";

/** Lowercase hex sha-256, as artifacts are named. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A sha-256 in progress: feed chunks, then read the lowercase hex digest once. */
export interface Sha256Stream {
  update(chunk: Uint8Array): void;
  hex(): string;
}

export type Sha256Factory = () => Sha256Stream;

/** Pure JS (@noble/hashes): runs everywhere, about a tenth the speed of a native hash. */
export const portableSha256: Sha256Factory = () => {
  const h = sha256.create();
  return {
    update: (chunk) => void h.update(chunk),
    hex: () => toHex(h.digest()),
  };
};

/** The raw-codec CIDv1 of bytes whose sha-256 is `hex`. */
export function rawCid(hex: string): string {
  if (!SHA256_HEX.test(hex)) throw new ArtifactError("artifact/invalid-cid", `${hex} is not a lowercase hex sha-256`);
  return CID.createV1(RAW, Digest.create(SHA2_256, fromHex(hex))).toString();
}

/** Parse a CID given as text; ArtifactError "artifact/invalid-cid" if it is not one. */
export function parseCid(text: string): CID {
  try {
    return CID.parse(text);
  } catch {
    throw new ArtifactError("artifact/invalid-cid", `${JSON.stringify(text.slice(0, 80))} is not a CID`);
  }
}

/** The sha-256 (hex) named by a raw-codec sha2-256 CIDv1; ArtifactError for any other CID. */
export function sha256OfCid(text: string): string {
  const cid = parseCid(text);
  if (cid.version !== 1 || cid.code !== RAW || cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new ArtifactError("artifact/invalid-cid", `${text} does not name raw bytes by sha2-256 (a CIDv1, raw codec)`);
  }
  return toHex(cid.multihash.digest);
}

/** Hash a stream of chunks; resolves to its size and sha-256. */
export async function digestStream(
  chunks: AsyncIterable<Uint8Array>,
  hasher: Sha256Factory = portableSha256,
): Promise<{ size: number; sha256: string }> {
  const h = hasher();
  let size = 0;
  for await (const chunk of chunks) {
    h.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: h.hex() };
}
