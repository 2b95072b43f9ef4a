/**
 * What every `/weft/sync/1` frame family shares: the protocol error, the
 * size limits, the field checks frames are validated with (built on the
 * same `protocol/schema` checks as the API), and the shape of a handler
 * registered for a frame type.
 */
import { WeftError } from "../errors.ts";
import { isDidKey } from "../identity/did-key.ts";
import { type Check, check, int, InvalidInput } from "../schema/input-checks.ts";

export const SYNC_PROTOCOL = "/weft/sync/1";
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class SyncProtocolError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SyncProtocolError", "sync/protocol", message, options);
  }
}

/** A `did:key` (a node's, or a space's root). */
export const didKey: Check<string> = check((v, field) => {
  if (!isDidKey(v)) throw new InvalidInput(field, "must be a did:key");
  return v;
}, { type: "string", pattern: "^did:key:z" });

/** A byte string of at most `max` bytes (CBOR bytes). */
export const bytes = (max: number, min = 0): Check<Uint8Array> =>
  check((v, field) => {
    if (!(v instanceof Uint8Array) || v.length < min || v.length > max) {
      throw new InvalidInput(field, `must be ${min} to ${max} bytes`);
    }
    return v;
  }, { type: "string", contentEncoding: "binary", minLength: min, maxLength: max });

/** A map whose fields are checked by whoever reads it (an automerge-repo message). */
export const anyMap: Check<Record<string, unknown>> = check((v, field) => {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new InvalidInput(field, "must be a map");
  }
  return v as Record<string, unknown>;
}, { type: "object" });

/** The id a request names and its answers repeat. */
export const requestId = int(0, Number.MAX_SAFE_INTEGER);

/** When a frame type may arrive: first, after the remote's hello, or once its auth was checked. */
export type FrameStage = "first" | "hello" | "ready";

/** How one frame type is read: its schema, and when it may come. */
export interface FrameSpec<F> {
  check: Check<F>;
  stage: FrameStage;
}

/** A registered handler for one frame type: called with the frame once its spec's check passed. */
export type FrameHandler<F> = (frame: F) => void | Promise<void>;

/** A copy of `o` without its undefined fields (frames carry no undefined). */
export function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
