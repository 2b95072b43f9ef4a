/**
 * Fetching a blob from the mesh by CID: ask the connected peers that share
 * a space with this node (who may ask theirs, a bounded number of hops
 * further), a few at a time, and take the first answer whose
 * bytes hash to the CID asked for. An answer with other bytes is ignored:
 * nothing unverified is ever returned. What a node answers is gated by
 * space (`mayServe`): a run manifest goes only to a remote that proved the
 * space it is about.
 */
import { CID } from "multiformats/cid";
import { cidOf, DAG_JSON, RAW, SHA2_256 } from "../codec/cid.ts";
import { decodeManifest } from "../artifacts/manifest.ts";
import { WeftError } from "../errors.ts";
import type { SyncSession } from "../sync/session.ts";

export class InvalidCid extends WeftError {
  constructor(cid: string) {
    super("InvalidCid", "input/cid", `${cid.slice(0, 80)} is not a blob CID (CIDv1, raw or dag-json, sha2-256)`);
  }
}

/** What the mesh carries by CID: raw bytes (programs, inputs, outputs) and dag-json blocks (run manifests). */
const CODECS = new Set([RAW, DAG_JSON]);

/** Parse a blob CID: CIDv1, raw or dag-json codec, sha2-256. */
export function parseBlobCid(text: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw new InvalidCid(text);
  }
  if (cid.version !== 1 || !CODECS.has(cid.code) || cid.multihash.code !== SHA2_256) throw new InvalidCid(text);
  return cid;
}

/** Do `bytes` hash to `cid`? */
export function matchesCid(bytes: Uint8Array, cid: CID): boolean {
  return cidOf(bytes, cid.code).equals(cid);
}

/**
 * May a remote that proved `spaces` be given these bytes for `cid`? A run
 * manifest (dag-json) says what a space ran, so it goes only to a remote
 * that proved the space it names (a block that is no manifest goes to
 * nobody); raw bytes name no space and go to any remote that shares one.
 */
export function mayServe(cid: CID, bytes: Uint8Array, spaces: ReadonlySet<string>): boolean {
  if (cid.code !== DAG_JSON) return true;
  try {
    return spaces.has(decodeManifest(bytes).space);
  } catch {
    return false;
  }
}

/** Peers asked at once. */
const FAN_OUT = 3;

/**
 * Ask `sessions` for a blob, each allowed to pass the request `hops` peers
 * further; resolves with the first verified answer.
 */
export async function blobFromMesh(
  sessions: readonly SyncSession[],
  cidText: string,
  signal?: AbortSignal,
  hops = 0,
): Promise<Uint8Array | undefined> {
  const cid = parseBlobCid(cidText);
  const candidates = sessions.filter((s) => s.ready && s.spaces.size > 0);
  for (let i = 0; i < candidates.length && !signal?.aborted; i += FAN_OUT) {
    const batch = candidates.slice(i, i + FAN_OUT);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const found = await new Promise<Uint8Array | undefined>((resolve) => {
        let left = batch.length;
        for (const session of batch) {
          session.want(cid.toString(), controller.signal, hops).then((bytes) => {
            if (bytes && matchesCid(bytes, cid)) resolve(bytes);
            else if (--left === 0) resolve(undefined);
          });
        }
      });
      if (found) return found;
    } finally {
      controller.abort();
      signal?.removeEventListener("abort", onAbort);
    }
  }
  return undefined;
}
