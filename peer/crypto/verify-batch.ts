/**
 * The bytes a peer's signature-check worker receives (verify-pool.ts →
 * verify-worker.ts): one buffer per batch, moved rather than copied, each
 * check laid out as key (32) · signature (64) · message length (u32 LE) ·
 * message. One buffer costs one allocation and one transfer; a typed-array
 * view sent as-is would copy the whole buffer it is a view of. The worker's
 * side, checkBatch, uses the native verifier's check (ed25519-keys.ts).
 */
import type { VerifyItem } from "#protocol/identity";
import { type MessagePort, workerData } from "node:worker_threads";
import { checkSignature, ed25519Keys } from "./ed25519-keys.ts";

export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
const HEAD = KEY_BYTES + SIGNATURE_BYTES + 4;

/** A batch of checks as one buffer. */
export function packBatch(items: readonly VerifyItem[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const it of items) size += HEAD + it.message.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const it of items) {
    out.set(it.publicKey, at);
    out.set(it.signature, at + KEY_BYTES);
    view.setUint32(at + KEY_BYTES + SIGNATURE_BYTES, it.message.length, true);
    out.set(it.message, at + HEAD);
    at += HEAD + it.message.length;
  }
  return out;
}

export interface PackedCheck {
  key: Uint8Array;
  signature: Uint8Array;
  message: Uint8Array;
}

/** The checks in a packed batch, in order; stops (short) at the first that runs past the end. */
export function* unpackBatch(bytes: Uint8Array): Generator<PackedCheck> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + HEAD <= bytes.length) {
    const length = view.getUint32(at + KEY_BYTES + SIGNATURE_BYTES, true);
    if (at + HEAD + length > bytes.length) return;
    yield {
      key: bytes.subarray(at, at + KEY_BYTES),
      signature: bytes.subarray(at + KEY_BYTES, at + KEY_BYTES + SIGNATURE_BYTES),
      message: bytes.subarray(at + HEAD, at + HEAD + length),
    };
    at += HEAD + length;
  }
}

/** What the pool sends a worker, and what it answers. */
export interface BatchRequest {
  id: number;
  /** A packed batch (packBatch). */
  bytes: Uint8Array;
}

export interface BatchAnswer {
  id: number;
  /** 1 where the signature holds, 0 where it does not, one byte per check. */
  ok: Uint8Array;
}

const keyFor = ed25519Keys();

/** Check a packed batch: one verdict byte per check, 1 where the signature holds. */
export function checkBatch(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const verdicts: number[] = [];
  for (const c of unpackBatch(bytes)) {
    const key = keyFor(String.fromCharCode(...c.key), () => c.key.slice());
    verdicts.push(checkSignature(key, c.message, c.signature) ? 1 : 0);
  }
  return Uint8Array.from(verdicts);
}

/**
 * In a verify worker: the port its pool talks to it on (given at start as
 * `workerData.port`). Requests and answers travel on this port rather than
 * the worker's own channel, so the pool can take answers that have arrived
 * at once (receiveMessageOnPort) instead of on its event loop's next turn.
 */
export function poolPort(): MessagePort {
  const port = (workerData as { port?: MessagePort } | null)?.port;
  if (!port) throw new Error("this verify worker was started without its pool's port (workerData.port)");
  return port;
}
