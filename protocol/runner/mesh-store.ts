/**
 * The content store a runner sees on a node: the node's own store first,
 * then the mesh. A job placed on this node reads its program and inputs by
 * CID wherever they were submitted; what is fetched is verified against its
 * CID (see node/blobs.ts) and kept locally, so the next job needing it
 * starts without a fetch.
 */
import type { ContentStore } from "./runner.ts";

export function meshContentStore(
  local: ContentStore,
  fetch: (cid: string, signal: AbortSignal) => Promise<Uint8Array | undefined>,
  timeoutMs = 60_000,
): ContentStore {
  return {
    async get(cid) {
      const here = await local.get(cid);
      if (here) return here;
      const fetched = await fetch(cid, AbortSignal.timeout(timeoutMs));
      if (fetched) await local.put(fetched);
      return fetched;
    },
    put: (bytes) => local.put(bytes),
  };
}
