/**
 * Two automerge sync messages from one peer to another, for one document,
 * made one: the changes of both, then the later one's heads, need and have.
 * A receiver given the merged message ends where it would after both, by
 * the sync protocol's own rules: it applies every change, and the heads,
 * need and have it keeps are those of the latest message. It answers once
 * instead of twice.
 *
 * The relay uses this for stock clients (see stock-websocket-adapter.ts):
 * automerge-repo answers each message at once from the document as it was
 * before applying it, then tells every peer the rest on a timer, so a
 * client got two messages carrying changes for every round of writes, and
 * applied and answered each.
 *
 * Wire format (automerge's `sync.rs`): a version byte (0x42 V1, 0x43 V2);
 * heads and need (a LEB128 count, then 32-byte hashes); have (a count,
 * then per entry the hashes of its last sync and a length-prefixed bloom
 * filter); the changes (a count, then length-prefixed chunks: changes, or
 * a compressed document standing for many); then what the version carries
 * after them (a first message's capabilities, flags). The chunks of both
 * messages are kept as they are and applied one by one, as they would be
 * from two messages. Messages are merged only when both are the same
 * version and end with the same bytes after their changes (the same
 * capabilities and flags); otherwise `undefined`, and they are sent one
 * after the other as they are.
 */

import { varint } from "./length-frames.ts";

const V1 = 0x42;
const V2 = 0x43;
const HASH_BYTES = 32;

/** Where a message's parts are: what merging needs to copy. */
interface Layout {
  version: number;
  /** Where the changes' count is (the end of have). */
  changesAt: number;
  /** How many chunks, and where their length-prefixed bytes begin and end (the trailer follows). */
  count: number;
  listAt: number;
  listEnd: number;
}

/** An unsigned LEB128 at `at` (at most 8 bytes): its value and where it ends; undefined if cut short or longer. */
function leb(bytes: Uint8Array, at: number): { value: number; end: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 8; i++) {
    value += (bytes[i] & 0x7f) * scale;
    if ((bytes[i] & 0x80) === 0) return { value, end: i + 1 };
    scale *= 128;
  }
  return undefined;
}

/** Skip a counted list of hashes at `at`; where it ends, or undefined. */
function skipHashes(bytes: Uint8Array, at: number): number | undefined {
  const n = leb(bytes, at);
  if (n === undefined) return undefined;
  const end = n.end + n.value * HASH_BYTES;
  return end <= bytes.length ? end : undefined;
}

/** Skip one length-prefixed byte string at `at`; where it ends, or undefined. */
function skipBytes(bytes: Uint8Array, at: number): number | undefined {
  const n = leb(bytes, at);
  if (n === undefined) return undefined;
  const end = n.end + n.value;
  return end <= bytes.length ? end : undefined;
}

/** The layout of a sync message, or undefined if it is not one. */
function layout(bytes: Uint8Array): Layout | undefined {
  const version = bytes[0];
  if (version !== V1 && version !== V2) return undefined;
  let at: number | undefined = skipHashes(bytes, 1); // heads
  if (at !== undefined) at = skipHashes(bytes, at); // need
  if (at === undefined) return undefined;
  const haves = leb(bytes, at);
  if (haves === undefined) return undefined;
  at = haves.end;
  for (let h = 0; h < haves.value && at !== undefined; h++) {
    at = skipHashes(bytes, at); // the have's last sync
    if (at !== undefined) at = skipBytes(bytes, at); // its bloom filter
  }
  if (at === undefined) return undefined;
  const count = leb(bytes, at);
  if (count === undefined) return undefined;
  let end: number | undefined = count.end;
  for (let c = 0; c < count.value && end !== undefined; c++) end = skipBytes(bytes, end);
  if (end === undefined) return undefined;
  return { version, changesAt: at, count: count.value, listAt: count.end, listEnd: end };
}

/** Whether two messages end with the same bytes after their changes. */
function sameTrailer(a: Uint8Array, aEnd: number, b: Uint8Array, bEnd: number): boolean {
  if (a.length - aEnd !== b.length - bEnd) return false;
  for (let i = 0; aEnd + i < a.length; i++) if (a[aEnd + i] !== b[bEnd + i]) return false;
  return true;
}

/** Whether a sync message carries changes (false for what is not a sync message). */
export function carriesChanges(bytes: Uint8Array): boolean {
  return (layout(bytes)?.count ?? 0) > 0;
}

/**
 * `first` then `second` (sync messages from one peer to one peer for one
 * document) as one message, or undefined when they cannot be merged and
 * must be sent one after the other.
 */
export function mergeSyncMessages(first: Uint8Array, second: Uint8Array): Uint8Array | undefined {
  const a = layout(first), b = layout(second);
  if (a === undefined || b === undefined || a.version !== b.version) return undefined;
  if (!sameTrailer(first, a.listEnd, second, b.listEnd)) return undefined;
  if (a.count === 0) return second; // the first carried no change: the second says all it said
  const head = second.subarray(0, b.changesAt);
  const count = varint(a.count + b.count);
  const fromA = first.subarray(a.listAt, a.listEnd), rest = second.subarray(b.listAt);
  const out = new Uint8Array(head.length + count.length + fromA.length + rest.length);
  out.set(head);
  out.set(count, head.length);
  out.set(fromA, head.length + count.length);
  out.set(rest, head.length + count.length + fromA.length);
  return out;
}
