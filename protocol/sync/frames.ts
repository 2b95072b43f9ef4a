/**
 * The `/weft/sync/1` wire format, shared by every transport (libp2p
 * streams, WebSockets, in-process channels). Each frame is a CBOR map with a
 * `type`; each family of frame types is described, checked and handled in
 * its own file:
 *
 *   handshake.ts     hello, auth, authz, revoked   who the remote is and which spaces it may sync
 *   gate.ts          repo                           automerge-repo messages, for the spaces proved
 *   gossip-frames.ts gossip, pull                   a space's gossip (members only: there is no open topic)
 *   blob-exchange.ts want, have                     blobs by CID (runner inputs and outputs)
 *   log-streams.ts   logs, log                      a run's log, from the node running it
 *
 * Frames from the network are size-limited, decoded strictly and checked
 * against their type's schema here, before anything reads them; a bad frame
 * is a typed error and closes the session.
 */
import * as cborg from "cborg";
import { isWeftError } from "../errors.ts";
import { MAX_FRAME_BYTES, SyncProtocolError } from "./frame-checks.ts";
import { type BlobFrame, blobFrames } from "./blob-exchange.ts";
import { type RepoFrame, repoFrames } from "./gate.ts";
import { type GossipFrames, gossipFrames } from "./gossip-frames.ts";
import { type HandshakeFrame, handshakeFrames } from "./handshake.ts";
import { type LogStreamFrame, logStreamFrames } from "./log-streams.ts";

export * from "./frame-checks.ts";
export type { GossipChannel } from "./gossip-frames.ts";
export { GOSSIP_CHANNELS, MAX_GOSSIP_BYTES } from "./gossip-frames.ts";
export { MAX_BLOB_BYTES, MAX_BLOB_HOPS } from "./blob-exchange.ts";
export { MAX_REVOCATION_RECORDS } from "./handshake.ts";
export type { WireLogLine } from "./log-streams.ts";

export type Frame = HandshakeFrame | RepoFrame | GossipFrames | BlobFrame | LogStreamFrame;
export type FrameType = Frame["type"];

/** Every frame type's spec, by type. */
export const FRAME_SPECS = { ...handshakeFrames, ...repoFrames, ...gossipFrames, ...blobFrames, ...logStreamFrames };

export function encodeFrame(frame: Frame): Uint8Array {
  return cborg.encode(frame);
}

export function isFrameType(type: unknown): type is FrameType {
  return typeof type === "string" && Object.hasOwn(FRAME_SPECS, type);
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length > MAX_FRAME_BYTES) throw new SyncProtocolError(`frame of ${bytes.length} bytes is too large`);
  let f: unknown;
  try {
    f = cborg.decode(bytes, {
      allowUndefined: false,
      allowIndefinite: false,
      allowBigInt: false,
      rejectDuplicateMapKeys: true,
    });
  } catch (cause) {
    throw new SyncProtocolError("frame is not valid CBOR", { cause });
  }
  if (typeof f !== "object" || f === null || Array.isArray(f) || f instanceof Uint8Array) {
    throw new SyncProtocolError("frame is not a map");
  }
  const type = (f as { type?: unknown }).type;
  if (!isFrameType(type)) throw new SyncProtocolError(`unknown frame type ${JSON.stringify(type)?.slice(0, 40)}`);
  try {
    return FRAME_SPECS[type].check(f, type) as Frame;
  } catch (e) {
    throw new SyncProtocolError(`malformed ${type} frame: ${isWeftError(e) ? e.message : String(e)}`, { cause: e });
  }
}
