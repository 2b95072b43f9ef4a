/**
 * Messages over a byte stream (a subprocess's stdin and stdout): each frame
 * is a 4-byte big-endian length, then JSON in which every Uint8Array is
 * replaced by {"$bytes": i}, then the byte arrays themselves, each with its
 * own 4-byte length. No copying through base64, no dependencies.
 */
import { WeftError } from "#protocol";

const MAX_FRAME = 2 ** 32 - 1;

function extract(value: unknown, blobs: Uint8Array[]): unknown {
  if (value instanceof Uint8Array) return { $bytes: blobs.push(value) - 1 };
  if (Array.isArray(value)) return value.map((v) => extract(v, blobs));
  if (typeof value === "object" && value !== null) {
    if (value instanceof WebAssembly.Module) {
      throw new WeftError("RunnerError", "wasm/frame", "a compiled module cannot cross a process boundary; send bytes");
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, extract(v, blobs)]));
  }
  return value;
}

function restore(value: unknown, blobs: Uint8Array[]): unknown {
  if (Array.isArray(value)) return value.map((v) => restore(v, blobs));
  if (typeof value === "object" && value !== null) {
    const rec = value as Record<string, unknown>;
    if (typeof rec.$bytes === "number" && Object.keys(rec).length === 1) return blobs[rec.$bytes];
    return Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, restore(v, blobs)]));
  }
  return value;
}

export function encodeFrame(message: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = new TextEncoder().encode(JSON.stringify(extract(message, blobs)));
  const size = 4 + json.length + blobs.reduce((n, b) => n + 4 + b.length, 0);
  if (size > MAX_FRAME) throw new WeftError("RunnerError", "wasm/frame", `a ${size}-byte message is too large to send`);
  const out = new Uint8Array(4 + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size);
  view.setUint32(4, json.length);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of blobs) {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

function decode(frame: Uint8Array): unknown {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const jsonLength = view.getUint32(0);
  const json = JSON.parse(new TextDecoder().decode(frame.subarray(4, 4 + jsonLength)));
  const blobs: Uint8Array[] = [];
  for (let p = 4 + jsonLength; p < frame.length;) {
    const n = view.getUint32(p);
    blobs.push(frame.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return restore(json, blobs);
}

/** Feed it chunks as they arrive; it returns the messages they complete. Each byte is copied once. */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  #length = 0;

  push(chunk: Uint8Array): unknown[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const messages: unknown[] = [];
    while (this.#length >= 4) {
      while (this.#chunks[0].length < 4) {
        const [a, b] = this.#chunks;
        const head = new Uint8Array(a.length + b.length);
        head.set(a);
        head.set(b, a.length);
        this.#chunks.splice(0, 2, head);
      }
      const head = this.#chunks[0];
      const size = new DataView(head.buffer, head.byteOffset, head.length).getUint32(0);
      if (this.#length < 4 + size) break;
      messages.push(decode(this.#take(4 + size).subarray(4)));
    }
    return messages;
  }

  /** Remove and return the first n buffered bytes as one array. */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    let i = 0;
    while (at < n) {
      const c = this.#chunks[i];
      const use = Math.min(c.length, n - at);
      out.set(c.subarray(0, use), at);
      at += use;
      if (use === c.length) i++;
      else this.#chunks[i] = c.subarray(use);
    }
    this.#chunks = this.#chunks.slice(i);
    this.#length -= n;
    return out;
  }
}
