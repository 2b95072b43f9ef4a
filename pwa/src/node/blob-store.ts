/**
 * A ContentStore in this browser's IndexedDB: the programs, inputs and
 * outputs of the WASM jobs this tab runs, by CID (raw, sha2-256). Bytes are
 * checked against their CID on the way in, so what it serves to peers is
 * always what was asked for.
 */
import { cidOf, RAW } from "#protocol/codec";
import type { ContentStore } from "#protocol/runner";
import type { WeftDb } from "./db.ts";

export function idbContentStore(db: WeftDb): ContentStore {
  return {
    async get(cid) {
      return await db.get("blobs", cid);
    },
    async put(bytes) {
      const cid = cidOf(bytes, RAW).toString();
      await db.put("blobs", bytes, cid);
      return cid;
    },
  };
}
