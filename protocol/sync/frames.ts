/**
 * The `/weft/sync/1` wire format, shared by every transport (libp2p
 * streams, WebSockets, in-process channels). Each frame is a CBOR map:
 *
 *   {t: "hello", v: 1, nonce: bytes(32), did, peer, meta?}
 *   {t: "auth", proofs: [container bytes, …]}   one container per space
 *   {t: "authz", spaces: [space DID, …]}          the remote's proofs we accepted
 *   {t: "msg", m: <automerge-repo message>}
 *
 * Frames from the network are size-limited and shape-checked here; a bad
 * frame is a typed error and closes the session.
 */
import * as cborg from "cborg";
import { WeftError } from "../errors.ts";
import { isDidKey } from "../identity/did-key.ts";

export const SYNC_PROTOCOL = "/weft/sync/1";
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const MAX_PROOFS_PER_FRAME = 256;

export class SyncProtocolError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SyncProtocolError", "sync/protocol", message, options);
  }
}

export interface HelloFrame {
  t: "hello";
  v: 1;
  nonce: Uint8Array;
  did: string;
  /** The sender's automerge-repo peer id. */
  peer: string;
  meta?: { storageId?: string; isEphemeral?: boolean };
}

export interface AuthFrame {
  t: "auth";
  proofs: Uint8Array[];
}

export interface AuthzFrame {
  t: "authz";
  spaces: string[];
}

export interface MsgFrame {
  t: "msg";
  m: Record<string, unknown>;
}

export type Frame = HelloFrame | AuthFrame | AuthzFrame | MsgFrame;

export function encodeFrame(frame: Frame): Uint8Array {
  return cborg.encode(frame);
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

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
  if (!isMap(f)) throw new SyncProtocolError("frame is not a map");
  switch (f.t) {
    case "hello": {
      const meta = f.meta;
      if (
        f.v !== 1 || !(f.nonce instanceof Uint8Array) || f.nonce.length !== 32 || !isDidKey(f.did) ||
        typeof f.peer !== "string" || f.peer.length === 0 || f.peer.length > 256 ||
        (meta !== undefined && !isMap(meta))
      ) {
        throw new SyncProtocolError("malformed hello frame");
      }
      return f as unknown as HelloFrame;
    }
    case "auth":
      if (
        !Array.isArray(f.proofs) || f.proofs.length > MAX_PROOFS_PER_FRAME ||
        !f.proofs.every((p) => p instanceof Uint8Array)
      ) {
        throw new SyncProtocolError("malformed auth frame");
      }
      return f as unknown as AuthFrame;
    case "authz":
      if (!Array.isArray(f.spaces) || f.spaces.length > MAX_PROOFS_PER_FRAME || !f.spaces.every(isDidKey)) {
        throw new SyncProtocolError("malformed authz frame");
      }
      return f as unknown as AuthzFrame;
    case "msg":
      if (!isMap(f.m)) throw new SyncProtocolError("malformed msg frame");
      return f as unknown as MsgFrame;
    default:
      throw new SyncProtocolError(`unknown frame type ${JSON.stringify(f.t)?.slice(0, 40)}`);
  }
}
