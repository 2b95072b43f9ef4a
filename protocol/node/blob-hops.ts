/**
 * Blobs between nodes: what this node serves to remotes it shares a space
 * with (runner inputs and outputs from its content store), and, for one it
 * lacks, asking its other peers a bounded number of hops further. Whatever
 * it hands on is checked against the CID and gated by space (`mayServe`).
 */
import type { ContentStore } from "../runner/runner.ts";
import { MAX_BLOB_HOPS } from "../sync/frames.ts";
import type { SyncSession } from "../sync/session.ts";
import { blobFromMesh, mayServe, parseBlobCid } from "./blobs.ts";
import { type NodeContext, sessionsOf } from "./node-context.ts";

/** How long a node looks among its own peers for a blob another peer asked it for. */
const BLOB_HOP_TIMEOUT_MS = 10_000;

export class BlobHops {
  readonly #ctx: NodeContext;
  #store?: ContentStore;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  /** Serve blobs from `store` to peers this node shares a space with. */
  serve(store: ContentStore): void {
    this.#store = store;
  }

  /**
   * Fetch a blob by CID (raw or dag-json, sha2-256) from the peers connected right now,
   * checking the bytes match; undefined if none has it.
   */
  fetch(cid: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.#fetch(cid, signal, MAX_BLOB_HOPS - 1);
  }

  /** A remote asked for a blob: from the store, or (hops left) from the other peers. */
  async answer(cid: string, hops: number, from: SyncSession): Promise<Uint8Array | undefined> {
    const bytes = (await this.#store?.get(cid)) ??
      (hops > 0 ? await this.#fetch(cid, AbortSignal.timeout(BLOB_HOP_TIMEOUT_MS), hops - 1, from) : undefined);
    return bytes && mayServe(parseBlobCid(cid), bytes, from.spaces) ? bytes : undefined;
  }

  #fetch(cid: string, signal: AbortSignal | undefined, hops: number, except?: SyncSession) {
    return blobFromMesh(sessionsOf(this.#ctx, except), cid, signal, hops);
  }
}
