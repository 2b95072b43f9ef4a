/**
 * node:crypto's SHA-256 (OpenSSL, hardware SHA extensions) for peers, in the
 * two shapes protocol/ takes it: a one-shot hash behind every CID (about four
 * times the pure-JavaScript default for a token-sized input, and every token
 * a peer receives is hashed once; installed once at start, protocol checks it
 * against known digests first), and an incremental hasher for artifacts'
 * streamed bytes (about ten times the portable one).
 */
import { createHash, hash } from "node:crypto";
import { useSha256 } from "#protocol/codec";
import type { Sha256Factory } from "#protocol/artifacts";

/** node:crypto's one-shot `hash` (every Node the package supports, ≥ 22.18, and Deno 2 have it). */
const oneShotSha256 = (bytes: Uint8Array) => new Uint8Array(hash("sha256", bytes, "buffer"));

/** Make node:crypto the SHA-256 behind every CID in this process. */
export function installNativeSha256(): void {
  useSha256(oneShotSha256);
}

/** An incremental node:crypto SHA-256, for artifact bytes that arrive as a stream. */
export const nativeSha256Stream: Sha256Factory = () => {
  const h = createHash("sha256");
  return {
    update: (chunk) => void h.update(chunk),
    hex: () => h.digest("hex"),
  };
};
