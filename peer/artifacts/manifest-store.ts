/**
 * Manifests in helia, kept local: blocks in blockstore-fs under the data
 * dir (durable writes), pins in a durable datastore, and no libp2p at all —
 * no bitswap, no discovery, no delegated routers, no gateways. A run
 * manifest says what a space ran (space, task, runner, outputs, provenance),
 * so it leaves this node only over sync sessions, to a remote that proved it
 * may sync a space: a block this node lacks is asked of those members by CID
 * (`fetch`, the node's blob exchange, which checks the bytes hash to the
 * CID), and nothing is ever asked of, or sent a wantlist to, a stranger.
 * `get` always carries an AbortSignal, so a CID no member has fails in
 * bounded time.
 */
import { join } from "node:path";
import * as dagJson from "@ipld/dag-json";
import { createHeliaLight } from "helia";
import type { CID } from "multiformats/cid";
import { concatBytes, WeftError } from "#protocol";
import { DAG_JSON } from "#protocol/codec";
import { ArtifactError, manifestCid, MAX_MANIFEST_BYTES, parseCid } from "#protocol/artifacts";
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

/** A block by CID from the member peers connected now (verified against the CID), or undefined. */
export type FetchBlock = (cid: string, signal: AbortSignal) => Promise<Uint8Array | undefined>;

/** Parse a manifest CID (dag-json); ArtifactError "artifact/invalid-cid" otherwise. */
export function parseManifestCid(text: string): CID {
  const cid = parseCid(text);
  if (cid.code !== DAG_JSON) throw new ArtifactError("artifact/invalid-cid", `${text} is not a dag-json manifest CID`);
  return cid;
}

export class ManifestStore {
  readonly helia: Helia;
  readonly #fetch: FetchBlock;

  private constructor(helia: Helia, fetch: FetchBlock) {
    this.helia = helia;
    this.#fetch = fetch;
  }

  /** Open the store under `dir`; blocks it lacks are asked of member peers through `fetch`. */
  static async open(options: { dir: string; fetch: FetchBlock }): Promise<ManifestStore> {
    const blockstore = new DurableFsBlockstore(join(options.dir, "blocks"));
    await blockstore.open();
    const datastore = new FsDatastore(join(options.dir, "pins"));
    await datastore.open();
    const helia = createHeliaLight({ blockstore, datastore, codecs: [dagJson], routers: [] });
    await helia.start();
    return new ManifestStore(helia, options.fetch);
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
   * The block for `cid`, from here or from a connected member peer (kept
   * here once fetched). Rejects with "not-found" when no member produced it
   * before `signal` (default: 15 s).
   */
  async get(cid: CID, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const signal = options.signal ?? AbortSignal.timeout(DEFAULT_FETCH_MS);
    if (await this.has(cid)) return await this.#read(cid, signal);
    const bytes = await this.#fetch(cid.toString(), signal);
    if (!bytes) throw new WeftError("NotFound", "not-found", `no member peer provided manifest ${cid} in time`);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new ArtifactError("artifact/too-large", `${cid} is larger than a manifest`);
    }
    await this.helia.blockstore.put(cid, bytes);
    return bytes;
  }

  async #read(cid: CID, signal: AbortSignal): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const part of this.helia.blockstore.get(cid, { signal })) {
      size += part.length;
      if (size > MAX_MANIFEST_BYTES) throw new ArtifactError("artifact/too-large", `${cid} is larger than a manifest`);
      parts.push(part);
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
