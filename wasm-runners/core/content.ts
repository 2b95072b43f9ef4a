/**
 * Bytes in and out of the content store, checked: what a run reads must hash
 * to the CID it was asked for (a store or a peer could hand back anything),
 * and what it writes is described by size, sha-256 and raw-codec CID, and
 * must be stored under exactly that CID. A read is checked with WebCrypto's
 * SHA-256 where the CID is sha2-256 (every runtime here has it): native, and
 * off the event loop, where a run's source of megabytes hashed in JavaScript
 * held up everything else the node does, its claims included, for tens of ms.
 */
import { CID, cidOf, RAW, SHA2_256 } from "#protocol/codec";
import { WeftError } from "#protocol";
import type { ContentStore, OutputFile } from "#protocol/runner";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Fetch `cid` (described as `what` in errors) and check its bytes hash to it. */
export async function fetchVerified(store: ContentStore, cid: string, what: string): Promise<Uint8Array> {
  const bytes = await store.get(cid);
  if (bytes === undefined) {
    throw new WeftError(
      "RunnerError",
      "runner/content-missing",
      `${what} ${cid} is not in the content store; put it there (or fetch it from a peer) and run again`,
    );
  }
  const wanted = CID.parse(cid);
  const digest = wanted.multihash.code === SHA2_256
    ? new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource))
    : cidOf(bytes, wanted.code).multihash.digest;
  if (!sameBytes(digest, wanted.multihash.digest)) {
    throw new WeftError(
      "RunnerError",
      "runner/content-mismatch",
      `the content store returned bytes for ${what} ${cid} that do not hash to that CID; the store is corrupt`,
    );
  }
  return bytes;
}

/** Store an output file and describe it. */
export async function storeOutput(store: ContentStore, path: string, bytes: Uint8Array): Promise<OutputFile> {
  const cid = cidOf(bytes, RAW);
  const stored = await store.put(bytes);
  if (stored !== cid.toString()) {
    throw new WeftError(
      "RunnerError",
      "runner/content-mismatch",
      `the content store put output ${path} under ${stored}, not its raw sha2-256 CID ${cid}; the store is misconfigured`,
    );
  }
  return { path, size: bytes.length, sha256: hex(cid.multihash.digest), cid: stored };
}
