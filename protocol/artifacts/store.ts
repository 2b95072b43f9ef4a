/**
 * Where artifact bytes live: one interface, two backends in the peer (a
 * local content-addressed directory, the embedded default, and an
 * S3-compatible bucket). Artifacts are named by their sha-256; bytes always
 * stream, so memory stays flat however large a file grows. (`write` and
 * `read` rather than put/get, so the local store can also be a runner's
 * ContentStore, whose put/get take whole byte arrays by CID.)
 */
import type { Location } from "./manifest.ts";

export interface StoredArtifact {
  sha256: string;
  size: number;
  /** The raw-codec CIDv1 of the bytes. */
  cid: string;
  location: Location;
}

export interface PutOptions {
  /** The expected sha-256: on a mismatch nothing is stored. */
  sha256?: string;
  /** The expected size: more or fewer bytes fail the put and store nothing. */
  size?: number;
  signal?: AbortSignal;
  /** Bytes taken in so far. */
  onProgress?: (bytes: number) => void;
}

export interface ArtifactStore {
  readonly kind: "local" | "s3";
  /** Stream bytes in, hashing them on the way; resolves once they are durable under their digest. */
  write(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: PutOptions): Promise<StoredArtifact>;
  /** The size of a stored artifact, or undefined if this store does not hold it. */
  stat(sha256: string, options?: { signal?: AbortSignal }): Promise<{ size: number } | undefined>;
  /** Stream a stored artifact from byte `offset`; rejects with code "not-found" if absent. */
  read(sha256: string, options?: { offset?: number; signal?: AbortSignal }): Promise<AsyncIterable<Uint8Array>>;
  /** Where this store keeps an artifact, as manifests record it. */
  location(sha256: string): Location;
}
