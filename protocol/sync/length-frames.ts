/**
 * Length-prefixed CBOR frames: what every stream outside the sync session
 * (`/weft/git/1`, `/weft/transcript/1`) carries before, or instead of,
 * bytes of its own. A frame is a varint length then that many bytes of
 * CBOR. A length over the reader's limit is refused on the prefix alone,
 * before its bytes are read, and the CBOR is decoded strictly.
 */
import * as cborg from "cborg";
import { WeftError } from "../errors.ts";
import { SyncProtocolError } from "./frame-checks.ts";

/** `n` as an unsigned LEB128 varint: the length prefix of every frame. */
export function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** `body` with its varint length in front. */
export function lengthPrefixed(body: Uint8Array): Uint8Array {
  const len = varint(body.length);
  const out = new Uint8Array(len.length + body.length);
  out.set(len);
  out.set(body, len.length);
  return out;
}

/**
 * The first length-prefixed frame in `buffer`, if it is all there, and the
 * bytes after it. A length over `max` (or a prefix longer than its varint
 * can be) is refused as soon as the prefix is read.
 */
export function splitFrame(buffer: Uint8Array, max: number): { frame: Uint8Array; rest: Uint8Array } | undefined {
  let length = 0;
  for (let i = 0; i < buffer.length; i++) {
    if (i >= 4) throw new SyncProtocolError("frame length prefix is too long");
    const b = buffer[i];
    length += (b & 0x7f) * 2 ** (7 * i);
    if (length > max) {
      throw new WeftError("FrameTooLarge", "input/too-large", `frame of ${length} bytes exceeds ${max}`);
    }
    if ((b & 0x80) === 0) {
      const start = i + 1;
      if (buffer.length < start + length) return undefined;
      return { frame: buffer.subarray(start, start + length), rest: buffer.subarray(start + length) };
    }
  }
  return undefined;
}

/** Decode a frame's CBOR strictly (no undefined, indefinite lengths, big integers or duplicate keys). */
export function decodeStrictCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return cborg.decode(bytes, {
      allowUndefined: false,
      allowIndefinite: false,
      allowBigInt: false,
      rejectDuplicateMapKeys: true,
    });
  } catch (cause) {
    throw new SyncProtocolError(`${what} is not valid CBOR`, { cause });
  }
}
