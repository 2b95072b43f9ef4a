/**
 * The automerge documents of a space, and where task operations live.
 *
 * A space is one metadata document plus a fixed set of bucket documents
 * (the count chosen at genesis). Each task's operations go to the bucket its
 * id hashes to, so a space of 10,000 tasks is ~65 documents, not 10,000:
 * automerge-repo slows sharply past a few thousand documents, and a single
 * document slows as its map grows (see tests/bench/mesh-scale).
 *
 * Documents only carry signed bytes keyed by their CID; what they mean is
 * decided by verifying and reducing those bytes. A member who edits a
 * document by hand can add garbage (refused on read) but cannot forge.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "../bytes.ts";

export interface SpaceDoc {
  weft: "space/1";
  /** The space's DID (its root authority). */
  space: string;
  /** The genesis operation, signed by the root: names the space and its bucket documents. */
  genesis?: Uint8Array;
  /** Delegation tokens by CID: who may do what. */
  delegations: Record<string, Uint8Array>;
  /** Revocation records by CID. */
  revocations: Record<string, Uint8Array>;
  /** Space-level operations (rename) by CID. */
  ops: Record<string, Uint8Array>;
}

export interface BucketDoc {
  weft: "bucket/1";
  space: string;
  /** Signed task operations by CID. */
  ops: Record<string, Uint8Array>;
}

/** Buckets per space: measured to keep 10k tasks fast on Node (see tests/bench/mesh-scale). */
export const DEFAULT_BUCKETS = 64;

/** Which bucket the operations on an object (a task id, a repository name) live in. */
export function bucketOf(object: string, buckets: number): number {
  const h = sha256(utf8(object));
  const n = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
  return n % buckets;
}
