/**
 * Manifests in helia, on the node's own libp2p: blocks in blockstore-fs
 * under the data dir (durable writes), pins in a durable datastore, and
 * bitswap as the only way out — so one identity, one set of connections,
 * and nothing that dials on its own: no discovery, no delegated routers,
 * no gateways. A block this node lacks is asked of the peers it is
 * connected to; `get` always carries an AbortSignal, so a CID no peer has
 * fails in bounded time instead of waiting for a provider search.
 *
 * helia 7's libp2p mixin can only create its own libp2p, so this uses
 * helia's light core with the node's existing libp2p attached, and the
 * bitswap mixin on top (bitswap takes libp2p from the helia object).
 */
import { join } from "node:path";
import * as dagJson from "@ipld/dag-json";
import { withBitswap } from "@helia/bitswap";
import { createHeliaLight } from "helia";
import type { Libp2p } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { concatBytes } from "../../protocol/bytes.ts";
import { DAG_JSON } from "../../protocol/codec/cid.ts";
import { WeftError } from "../../protocol/errors.ts";
import { manifestCid, MAX_MANIFEST_BYTES } from "../../protocol/artifacts/manifest.ts";
import { ArtifactError } from "../../protocol/artifacts/errors.ts";
import { parseCid } from "../../protocol/artifacts/digest.ts";
import { DurableFsBlockstore } from "./durable-blockstore.ts";
import { FsDatastore } from "./fs-datastore.ts";

/** How long a fetch may wait for a connected peer to answer, unless the caller says otherwise. */
export const DEFAULT_FETCH_MS = 15_000;

export interface Pin {
  cid: string;
  space?: string;
  task?: string;
}

type Helia = ReturnType<typeof createHeliaLight>;

/** Parse a manifest CID (dag-json); ArtifactError "artifact/invalid-cid" otherwise. */
export function parseManifestCid(text: string): CID {
  const cid = parseCid(text);
  if (cid.code !== DAG_JSON) throw new ArtifactError("artifact/invalid-cid", `${text} is not a dag-json manifest CID`);
  return cid;
}

export class ManifestStore {
  readonly helia: Helia;

  private constructor(helia: Helia) {
    this.helia = helia;
  }

  /** Open the store under `dir` and start bitswap on `libp2p`. */
  static async open(options: { dir: string; libp2p: Libp2p }): Promise<ManifestStore> {
    const blockstore = new DurableFsBlockstore(join(options.dir, "blocks"));
    await blockstore.open();
    const datastore = new FsDatastore(join(options.dir, "pins"));
    await datastore.open();
    const helia = createHeliaLight({ blockstore, datastore, codecs: [dagJson], routers: [] });
    Object.defineProperty(helia, "libp2p", { value: options.libp2p, enumerable: true });
    withBitswap(helia as unknown as Parameters<typeof withBitswap>[0], {
      // Send a want at once rather than after bitswap's default 10 ms of batching:
      // manifests are fetched one by one, on demand, and that wait was most of a fetch.
      sendWantlistDebounce: 0,
    });
    await helia.start();
    return new ManifestStore(helia);
  }

  /** Keep a manifest block (durably) and pin it; resolves to its CID. */
  async put(bytes: Uint8Array, pin: { space: string; task: string }): Promise<CID> {
    const cid = manifestCid(bytes);
    await this.helia.blockstore.put(cid, bytes);
    await this.pin(cid, pin);
    return cid;
  }

  /** Whether the block is here, without asking anyone. */
  async has(cid: CID): Promise<boolean> {
    return await this.helia.blockstore.has(cid);
  }

  /**
   * The block for `cid`, from here or from a connected peer over bitswap
   * (helia checks it hashes to the CID). Rejects with "not-found" when no
   * peer produced it before `signal` (default: 15 s).
   */
  async get(cid: CID, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const signal = options.signal ?? AbortSignal.timeout(DEFAULT_FETCH_MS);
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const part of this.helia.blockstore.get(cid, { signal })) {
        size += part.length;
        if (size > MAX_MANIFEST_BYTES) {
          throw new ArtifactError("artifact/too-large", `${cid} is larger than a manifest`);
        }
        parts.push(part);
      }
    } catch (e) {
      if (e instanceof WeftError) throw e;
      if (signal.aborted) {
        throw new WeftError("NotFound", "not-found", `no connected peer provided manifest ${cid} in time`, {
          cause: e,
        });
      }
      throw e;
    }
    return concatBytes(...parts);
  }

  /** Pin a block that is here (fetch it first); pinning twice is fine. */
  async pin(cid: CID, pin: { space: string; task: string }): Promise<void> {
    try {
      for await (
        const _ of this.helia.pins.add(cid, { depth: 0, metadata: pin, signal: AbortSignal.timeout(DEFAULT_FETCH_MS) })
      ) {
        // walking one block
      }
    } catch (e) {
      if ((e as Error).name !== "AlreadyPinnedError") throw e;
    }
  }

  async isPinned(cid: CID): Promise<boolean> {
    return await this.helia.pins.isPinned(cid);
  }

  async pins(): Promise<Pin[]> {
    const out: Pin[] = [];
    for await (const p of this.helia.pins.ls()) {
      const { space, task } = p.metadata as { space?: string; task?: string };
      out.push({ cid: p.cid.toString(), ...(space ? { space } : {}), ...(task ? { task } : {}) });
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.helia.stop();
  }
}
