/**
 * The SHA-256 behind every CID this node computes. protocol/ may not import
 * a runtime's crypto, so it hashes with @noble/hashes (pure JavaScript) unless
 * a shell installs a native one (peer/crypto/native-sha256.ts): on a peer that
 * is about four times faster for a token-sized input, and every received token
 * is hashed once. An installed function is checked against known digests first,
 * since a wrong hash would make every CID, and so every cache keyed on one, lie.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { WeftError } from "../errors.ts";
import { toHex } from "../bytes.ts";

/** A synchronous SHA-256: 32 bytes out for any input. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

let current: Sha256 = nobleSha256;

/** SHA-256 of `bytes`, with the installed implementation. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return current(bytes);
}

/** Inputs across the 55/56/64-byte padding edges, so a broken block or length encoding shows. */
const PROBES = [0, 3, 55, 56, 63, 64, 65, 119, 1000].map((n) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff)
);

/**
 * Use `impl` for SHA-256 from now on, if it gives the same digests as the
 * built-in one on inputs across the padding edges; otherwise throw and keep
 * the built-in one.
 */
export function useSha256(impl: Sha256): void {
  for (const probe of PROBES) {
    const got = impl(probe);
    if (!(got instanceof Uint8Array) || toHex(got) !== toHex(nobleSha256(probe))) {
      throw new WeftError(
        "BrokenSha256",
        "internal",
        `the SHA-256 offered gives a wrong digest for ${probe.length} bytes; keeping the built-in one`,
      );
    }
  }
  current = impl;
}
