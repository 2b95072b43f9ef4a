/**
 * The `/weft/sync/1` wire format, shared by every transport (libp2p
 * streams, WebSockets, in-process channels). Each frame is a CBOR map:
 *
 *   {t: "hello", v: 1, nonce: bytes(32), did, peer, meta?}
 *   {t: "auth", proofs: [container bytes, …]}   one container per space
 *   {t: "authz", spaces: [space DID, …]}          the remote's proofs we accepted
 *   {t: "msg", m: <automerge-repo message>}
 *   {t: "gossip", s: space, c: channel, d: bytes}  a space's gossip (members only: there is no open topic)
 *   {t: "pull", s: space}                        "I just started gossip for this space: send me the
 *                                               live adverts" (answered once per space and session)
 *   {t: "want", i: n, cid, h?: hops}             ask for a blob by CID (runner inputs, outputs);
 *                                               with hops > 0 the remote may ask its own peers
 *   {t: "have", i: n, d?: bytes}                the answer: the bytes, or none
 *   {t: "logs", i: n, s?, k?, f?}                a run's log (space s, task k) from the node running it;
 *                                               f: keep following until it ends; no s, k: stop
 *   {t: "log", i: n, l?: line, e?: reason}      a log line, or the end of the stream and why
 *   {t: "revoked", s: space, r: [record, …]}     "you were revoked in this space": the signed revocation
 *                                               records, sent before the sender stops sharing it
 *
 * Frames from the network are size-limited and shape-checked here; a bad
 * frame is a typed error and closes the session.
 */
import * as cborg from "cborg";
import { WeftError } from "../errors.ts";
import { isDidKey } from "../identity/did-key.ts";

export const SYNC_PROTOCOL = "/weft/sync/1";
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The largest blob one `have` frame carries. */
export const MAX_BLOB_BYTES = 48 * 1024 * 1024;
export const MAX_GOSSIP_BYTES = 64 * 1024;

export type GossipChannel = "capacity" | "heads" | "leases";
export const GOSSIP_CHANNELS: readonly GossipChannel[] = ["capacity", "heads", "leases"];
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

export interface GossipFrame {
  t: "gossip";
  s: string;
  c: GossipChannel;
  d: Uint8Array;
}

export interface PullFrame {
  t: "pull";
  s: string;
}

export interface WantFrame {
  t: "want";
  i: number;
  cid: string;
  /** How many more peers this request may be passed through. */
  h?: number;
}

/** The furthest a blob request travels. */
export const MAX_BLOB_HOPS = 2;

export interface HaveFrame {
  t: "have";
  i: number;
  d?: Uint8Array;
}

export interface LogsFrame {
  t: "logs";
  i: number;
  s?: string;
  k?: string;
  f?: boolean;
}

export interface WireLogLine {
  stream: "stdout" | "stderr" | "system";
  at: number;
  text: string;
}

export interface LogFrame {
  t: "log";
  i: number;
  l?: WireLogLine;
  /** The stream ended: "" when the run ended, else why there is no (more) log. */
  e?: string;
}

export interface RevokedFrame {
  t: "revoked";
  s: string;
  /** Revocation records (UCAN invocations), each checked by the receiver. */
  r: Uint8Array[];
}

/** Records in one `revoked` frame, and the largest one. */
export const MAX_REVOCATION_RECORDS = 16;
const MAX_REVOCATION_BYTES = 16 * 1024;

export type Frame =
  | HelloFrame
  | AuthFrame
  | AuthzFrame
  | MsgFrame
  | GossipFrame
  | PullFrame
  | WantFrame
  | HaveFrame
  | LogsFrame
  | LogFrame
  | RevokedFrame;

const MAX_LOG_TEXT = 64 * 1024;
const STREAMS = new Set(["stdout", "stderr", "system"]);

function isLogLine(v: unknown): v is WireLogLine {
  if (!isMap(v)) return false;
  return STREAMS.has(v.stream as string) && typeof v.at === "number" && Number.isFinite(v.at) &&
    typeof v.text === "string" && v.text.length <= MAX_LOG_TEXT;
}

export function encodeFrame(frame: Frame): Uint8Array {
  return cborg.encode(frame);
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

const isRequestId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

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
    case "gossip":
      if (
        !isDidKey(f.s) || !GOSSIP_CHANNELS.includes(f.c as GossipChannel) || !(f.d instanceof Uint8Array) ||
        f.d.length > MAX_GOSSIP_BYTES
      ) {
        throw new SyncProtocolError("malformed gossip frame");
      }
      return f as unknown as GossipFrame;
    case "pull":
      if (!isDidKey(f.s)) throw new SyncProtocolError("malformed pull frame");
      return f as unknown as PullFrame;
    case "want":
      if (
        !isRequestId(f.i) || typeof f.cid !== "string" || f.cid.length === 0 || f.cid.length > 128 ||
        (f.h !== undefined && (!Number.isInteger(f.h) || (f.h as number) < 0 || (f.h as number) > MAX_BLOB_HOPS))
      ) {
        throw new SyncProtocolError("malformed want frame");
      }
      return f as unknown as WantFrame;
    case "have":
      if (!isRequestId(f.i) || (f.d !== undefined && (!(f.d instanceof Uint8Array) || f.d.length > MAX_BLOB_BYTES))) {
        throw new SyncProtocolError("malformed have frame");
      }
      return f as unknown as HaveFrame;
    case "logs":
      if (
        !isRequestId(f.i) || (f.s === undefined) !== (f.k === undefined) ||
        (f.s !== undefined && (!isDidKey(f.s) || typeof f.k !== "string" || f.k.length === 0 || f.k.length > 64)) ||
        (f.f !== undefined && typeof f.f !== "boolean")
      ) {
        throw new SyncProtocolError("malformed logs frame");
      }
      return f as unknown as LogsFrame;
    case "log":
      if (
        !isRequestId(f.i) || (f.l !== undefined && !isLogLine(f.l)) ||
        (f.e !== undefined && (typeof f.e !== "string" || f.e.length > 1024))
      ) {
        throw new SyncProtocolError("malformed log frame");
      }
      return f as unknown as LogFrame;
    case "revoked":
      if (
        !isDidKey(f.s) || !Array.isArray(f.r) || f.r.length === 0 || f.r.length > MAX_REVOCATION_RECORDS ||
        !f.r.every((x) => x instanceof Uint8Array && x.length <= MAX_REVOCATION_BYTES)
      ) {
        throw new SyncProtocolError("malformed revoked frame");
      }
      return f as unknown as RevokedFrame;
    default:
      throw new SyncProtocolError(`unknown frame type ${JSON.stringify(f.t)?.slice(0, 40)}`);
  }
}
