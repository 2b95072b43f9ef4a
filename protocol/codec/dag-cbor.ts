/**
 * Strict DAG-CBOR for bytes that arrive from the network or disk.
 *
 * Signed things (UCAN tokens, gossip messages) must have exactly one
 * encoding, or the same content could hide behind different CIDs and
 * signatures. `checkCanonical` walks the item heads without building
 * values and refuses anything that is not canonical DAG-CBOR: indefinite
 * lengths, non-minimal heads, unsorted or duplicate map keys, non-string
 * keys, tags other than 42, non-64-bit floats, NaN/Infinity, undefined,
 * invalid UTF-8, nesting beyond a limit, and trailing bytes.
 * `decodeStrict` makes the same checks in the walk that builds the value
 * (one pass over the bytes instead of a check and then @ipld/dag-cbor's
 * decode), giving the values @ipld/dag-cbor gives: integers beyond 2^53 as
 * BigInt, byte strings copied out of the input, tag 42 as a CID.
 */
import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { WeftError } from "../errors.ts";
import { fromUtf8 } from "../bytes.ts";

export class MalformedCbor extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("MalformedCbor", "cbor/malformed", message, options);
  }
}

export interface StrictDecodeOptions {
  /** Largest accepted input, in bytes. */
  maxBytes?: number;
  /** Deepest accepted nesting of arrays, maps and tags. */
  maxDepth?: number;
}

export const DEFAULT_MAX_BYTES = 256 * 1024;
export const DEFAULT_MAX_DEPTH = 64;

interface Head {
  major: number;
  info: number;
  /** The argument (length, count, value) as a number; may be inexact above 2^53. */
  value: number;
  /** Offset just past the head. */
  end: number;
}

function fail(at: number, what: string): never {
  throw new MalformedCbor(`not canonical DAG-CBOR at byte ${at}: ${what}`);
}

function readHead(b: Uint8Array, pos: number): Head {
  if (pos >= b.length) fail(pos, "unexpected end of input");
  const first = b[pos];
  const major = first >> 5;
  const info = first & 31;
  if (info < 24) return { major, info, value: info, end: pos + 1 };
  if (info === 31) fail(pos, "indefinite-length items are not allowed");
  if (info > 27) fail(pos, `reserved additional information ${info}`);
  const n = 1 << (info - 24); // 1, 2, 4 or 8 argument bytes
  if (pos + 1 + n > b.length) fail(pos, "unexpected end of input in item head");
  let value = 0;
  for (let i = 0; i < n; i++) value = value * 256 + b[pos + 1 + i];
  // Major 7 heads carry floats, not lengths: minimality does not apply.
  if (major !== 7) {
    const min = n === 1 ? 24 : n === 2 ? 0x100 : n === 4 ? 0x10000 : 0x100000000;
    if (value < min) fail(pos, "integer or length not in its shortest form");
  }
  return { major, info, value, end: pos + 1 + n };
}

/** Byte order of DAG-CBOR map keys: shorter encoding first, then bytewise. */
function keyOrder(b: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const la = aEnd - aStart;
  const lb = bEnd - bStart;
  if (la !== lb) return la - lb;
  for (let i = 0; i < la; i++) {
    const d = b[aStart + i] - b[bStart + i];
    if (d !== 0) return d;
  }
  return 0;
}

/** ASCII is valid UTF-8; checking it byte by byte costs less than a decoder call for the short keys and DIDs of tokens. */
function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] > 0x7f) return false;
  return true;
}

function scanItem(b: Uint8Array, pos: number, depth: number, maxDepth: number): number {
  const h = readHead(b, pos);
  switch (h.major) {
    case 0:
    case 1:
      return h.end;
    case 2:
    case 3: {
      const end = h.end + h.value;
      if (end > b.length) fail(pos, "string or bytes run past the end of input");
      if (h.major === 3 && !isAscii(b, h.end, end)) {
        try {
          fromUtf8(b.subarray(h.end, end));
        } catch {
          fail(pos, "text string is not valid UTF-8");
        }
      }
      return end;
    }
    case 4: {
      if (depth >= maxDepth) fail(pos, `nested deeper than ${maxDepth} levels`);
      let p = h.end;
      for (let i = 0; i < h.value; i++) p = scanItem(b, p, depth + 1, maxDepth);
      return p;
    }
    case 5: {
      if (depth >= maxDepth) fail(pos, `nested deeper than ${maxDepth} levels`);
      let p = h.end;
      let prevStart = -1;
      let prevEnd = -1;
      for (let i = 0; i < h.value; i++) {
        const keyHead = readHead(b, p);
        if (keyHead.major !== 3) fail(p, "map keys must be text strings");
        const keyEnd = scanItem(b, p, depth + 1, maxDepth);
        if (prevStart >= 0 && keyOrder(b, prevStart, prevEnd, p, keyEnd) >= 0) {
          fail(p, "map keys are duplicated or not in canonical order");
        }
        prevStart = p;
        prevEnd = keyEnd;
        p = scanItem(b, keyEnd, depth + 1, maxDepth);
      }
      return p;
    }
    case 6: {
      if (h.value !== 42) fail(pos, `tag ${h.value} is not allowed (only 42, a CID)`);
      if (depth >= maxDepth) fail(pos, `nested deeper than ${maxDepth} levels`);
      const inner = readHead(b, h.end);
      if (inner.major !== 2 || inner.value < 1 || b[inner.end] !== 0) {
        fail(h.end, "tag 42 must wrap bytes starting with 0x00 (a binary CID)");
      }
      return scanItem(b, h.end, depth + 1, maxDepth);
    }
    default: {
      // major 7: simple values and floats
      if (h.info === 20 || h.info === 21 || h.info === 22) return h.end;
      if (h.info === 27) {
        const f = new DataView(b.buffer, b.byteOffset + pos + 1, 8).getFloat64(0);
        if (!Number.isFinite(f)) fail(pos, "NaN and Infinity are not allowed");
        return h.end;
      }
      if (h.info === 25 || h.info === 26) fail(pos, "floats must be 64-bit");
      if (h.info === 23) fail(pos, "undefined is not allowed");
      fail(pos, `simple value ${h.info} is not allowed`);
    }
  }
}

/** Bytes, not empty, within the size limit. */
function checkInput(bytes: Uint8Array, options: StrictDecodeOptions): void {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(bytes instanceof Uint8Array)) throw new MalformedCbor("expected bytes");
  if (bytes.length === 0) throw new MalformedCbor("empty input");
  if (bytes.length > maxBytes) {
    throw new MalformedCbor(`input is ${bytes.length} bytes; the limit is ${maxBytes}`);
  }
}

/** Throws MalformedCbor unless `bytes` is exactly one canonical DAG-CBOR item. */
export function checkCanonical(bytes: Uint8Array, options: StrictDecodeOptions = {}): void {
  checkInput(bytes, options);
  const end = scanItem(bytes, 0, 0, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  if (end !== bytes.length) fail(end, `${bytes.length - end} trailing byte(s) after the item`);
}

/** Where a decode stands in its input. */
interface Cursor {
  readonly b: Uint8Array;
  pos: number;
  readonly maxDepth: number;
}

/** The 8-byte argument at `at` exactly, as a BigInt. */
function bigArgument(b: Uint8Array, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0);
}

/** A text string of the input, checked to be UTF-8 (ASCII read directly: keys, DIDs and commands are). */
function readText(b: Uint8Array, start: number, end: number, at: number): string {
  if (end - start <= 64 && isAscii(b, start, end)) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  try {
    return fromUtf8(b.subarray(start, end));
  } catch {
    fail(at, "text string is not valid UTF-8");
  }
}

/** The CID a tag 42 wraps (after its 0x00 prefix). */
function cidIn(bytes: Uint8Array, at: number): CID {
  try {
    return CID.decode(bytes.subarray(1));
  } catch (e) {
    fail(at, `tag 42 does not hold a valid CID: ${(e as Error).message}`);
  }
}

/** Each array element takes at least one byte and each map entry two: a count beyond what is left is a lie. */
function checkCount(c: Cursor, at: number, count: number, bytesEach: number): void {
  if (count * bytesEach > c.b.length - c.pos) fail(at, "more items than the input has bytes for");
}

function readItem(c: Cursor, depth: number): unknown {
  const b = c.b;
  const at = c.pos;
  const h = readHead(b, at);
  c.pos = h.end;
  switch (h.major) {
    case 0:
      return h.value <= Number.MAX_SAFE_INTEGER ? h.value : bigArgument(b, at + 1);
    case 1:
      return h.value < Number.MAX_SAFE_INTEGER ? -1 - h.value : -1n - bigArgument(b, at + 1);
    case 2:
    case 3: {
      const end = h.end + h.value;
      if (end > b.length) fail(at, "string or bytes run past the end of input");
      c.pos = end;
      return h.major === 2 ? b.slice(h.end, end) : readText(b, h.end, end, at);
    }
    case 4: {
      if (depth >= c.maxDepth) fail(at, `nested deeper than ${c.maxDepth} levels`);
      checkCount(c, at, h.value, 1);
      const list: unknown[] = [];
      for (let i = 0; i < h.value; i++) list.push(readItem(c, depth + 1));
      return list;
    }
    case 5: {
      if (depth >= c.maxDepth) fail(at, `nested deeper than ${c.maxDepth} levels`);
      checkCount(c, at, h.value, 2);
      const map: Record<string, unknown> = {};
      let prevStart = -1;
      let prevEnd = -1;
      for (let i = 0; i < h.value; i++) {
        const keyStart = c.pos;
        if (keyStart >= b.length || b[keyStart] >> 5 !== 3) fail(keyStart, "map keys must be text strings");
        const key = readItem(c, depth + 1) as string;
        if (prevStart >= 0 && keyOrder(b, prevStart, prevEnd, keyStart, c.pos) >= 0) {
          fail(keyStart, "map keys are duplicated or not in canonical order");
        }
        prevStart = keyStart;
        prevEnd = c.pos;
        const value = readItem(c, depth + 1);
        // An own property even for "__proto__", which assignment would take as the prototype.
        if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true });
        else map[key] = value;
      }
      return map;
    }
    case 6: {
      if (h.value !== 42) fail(at, `tag ${h.value} is not allowed (only 42, a CID)`);
      if (depth >= c.maxDepth) fail(at, `nested deeper than ${c.maxDepth} levels`);
      const inner = readHead(b, h.end);
      if (inner.major !== 2 || inner.value < 1 || b[inner.end] !== 0) {
        fail(h.end, "tag 42 must wrap bytes starting with 0x00 (a binary CID)");
      }
      const bytes = readItem(c, depth + 1) as Uint8Array;
      return cidIn(bytes, h.end);
    }
    default: {
      // major 7: simple values and floats
      if (h.info === 20) return false;
      if (h.info === 21) return true;
      if (h.info === 22) return null;
      if (h.info === 27) {
        const f = new DataView(b.buffer, b.byteOffset + at + 1, 8).getFloat64(0);
        if (!Number.isFinite(f)) fail(at, "NaN and Infinity are not allowed");
        return f;
      }
      if (h.info === 25 || h.info === 26) fail(at, "floats must be 64-bit");
      if (h.info === 23) fail(at, "undefined is not allowed");
      fail(at, `simple value ${h.info} is not allowed`);
    }
  }
}

/** Decode canonical DAG-CBOR, or throw MalformedCbor saying why not. */
export function decodeStrict<T = unknown>(bytes: Uint8Array, options: StrictDecodeOptions = {}): T {
  checkInput(bytes, options);
  const c: Cursor = { b: bytes, pos: 0, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH };
  const value = readItem(c, 0);
  if (c.pos !== bytes.length) fail(c.pos, `${bytes.length - c.pos} trailing byte(s) after the item`);
  return value as T;
}

/** Canonical DAG-CBOR encoding. Throws MalformedCbor for unencodable values. */
export function encode(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value);
  } catch (cause) {
    throw new MalformedCbor(`cannot encode as DAG-CBOR: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Where the item starting at `pos` ends, for bytes already accepted by
 * checkCanonical; used to find signed byte ranges inside an envelope.
 */
export function itemEnd(bytes: Uint8Array, pos: number): number {
  return scanItem(bytes, pos, 0, DEFAULT_MAX_DEPTH);
}

/** The head of the item at `pos`: its major type and argument. */
export function itemHead(bytes: Uint8Array, pos: number): { major: number; value: number; end: number } {
  return readHead(bytes, pos);
}
