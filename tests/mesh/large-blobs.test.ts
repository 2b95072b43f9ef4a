/**
 * Blobs larger than one frame cross the mesh in pieces: a 100 MB blob (a
 * container image is often this big) held by one node is fetched whole by
 * another over libp2p, one hop through a third that does not hold it, and
 * the bytes match (on the old code, nothing over one frame ever crossed).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, libp2pNode, mesh } from "../helpers/nodes.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { MAX_BLOB_BYTES } from "../../protocol/sync/blob-exchange.ts";

describe("large blobs", () => {
  it("a blob of several frames is fetched whole, directly and one hop away", async () => {
    const [a, b, c] = await Promise.all([libp2pNode(), libp2pNode(), libp2pNode()]);
    try {
      const space = await a.node.createSpace("images");
      for (const x of [b, c]) {
        const invite = await a.node.invite(space.id, { audience: x.node.did });
        await mesh([a, x]);
        await x.node.join(invite, { signal: AbortSignal.timeout(20_000) });
      }
      const store = new MemoryContentStore();
      const big = new Uint8Array(2 * MAX_BLOB_BYTES + 4 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
      const cid = await store.put(big);
      a.node.serveBlobs(store);
      for (const x of [b, c]) x.node.serveBlobs(new MemoryContentStore());

      const direct = await b.node.fetchBlob(cid, AbortSignal.timeout(60_000));
      assert.ok(direct, "b fetched it from a");
      assert.equal(direct.length, big.length);
      assert.ok(Buffer.from(direct).equals(Buffer.from(big)), "the same bytes");

      // c reaches a only through b: cut a–c, so the request travels one hop.
      await eventually(() => c.node.space(space.id), 20_000, "c in the space");
      await a.node.libp2p!.hangUp(c.node.libp2p!.peerId);
      await mesh([b, c]);
      // Once c's session with b is up (it proves the space first), the request goes through b.
      const viaB = await eventually(() => c.node.fetchBlob(cid, AbortSignal.timeout(60_000)), 60_000, "the blob via b");
      assert.ok(viaB && Buffer.from(viaB).equals(Buffer.from(big)), "c got the same bytes through b");
    } finally {
      await Promise.all([a, b, c].map((x) => x.node.stop()));
    }
  });
});
