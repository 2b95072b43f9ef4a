/**
 * Field checks shared by delegation and invocation payloads. Each throws
 * UcanError InvalidPayload naming the field and what it must be.
 */
import { isDidKey } from "../identity/did-key.ts";
import { CID } from "multiformats/cid";
import { UcanError } from "./errors.ts";
import { commandProblem } from "./command.ts";
import { type Ipld, isMap } from "./policy/ipld.ts";

export function invalidPayload(message: string): UcanError {
  return new UcanError("InvalidPayload", message);
}

/** Refuse fields the spec does not define: a token means exactly what it says. */
export function onlyKnownFields(payload: Record<string, unknown>, allowed: ReadonlySet<string>, kind: string): void {
  for (const key of Object.keys(payload)) {
    if (!allowed.has(key)) throw invalidPayload(`unknown ${kind} field ${JSON.stringify(key)}`);
  }
}

export function did(payload: Record<string, unknown>, field: string): string {
  const v = payload[field];
  if (!isDidKey(v)) {
    throw invalidPayload(`"${field}" must be an Ed25519 did:key, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v;
}

export function command(payload: Record<string, unknown>): string {
  const problem = commandProblem(payload.cmd);
  if (problem) throw new UcanError("InvalidCommand", problem);
  return payload.cmd as string;
}

export const MAX_NONCE_BYTES = 64;

export function nonce(payload: Record<string, unknown>): Uint8Array {
  const v = payload.nonce;
  if (!(v instanceof Uint8Array)) throw invalidPayload('"nonce" must be bytes');
  if (v.length > MAX_NONCE_BYTES) throw invalidPayload(`"nonce" is at most ${MAX_NONCE_BYTES} bytes`);
  return v;
}

function timestamp(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw invalidPayload(`"${field}" must be an integer number of seconds within ±(2^53-1)`);
  }
  return v;
}

/** A required-but-nullable timestamp (`exp`). */
export function nullableTime(payload: Record<string, unknown>, field: string): number | null {
  if (!Object.hasOwn(payload, field)) throw invalidPayload(`"${field}" is required (use null for none)`);
  const v = payload[field];
  return v === null ? null : timestamp(v, field);
}

export function optionalTime(payload: Record<string, unknown>, field: string): number | undefined {
  return Object.hasOwn(payload, field) ? timestamp(payload[field], field) : undefined;
}

export function optionalMeta(payload: Record<string, unknown>): Record<string, Ipld> | undefined {
  if (!Object.hasOwn(payload, "meta")) return undefined;
  if (!isMap(payload.meta)) throw invalidPayload('"meta" must be a map');
  return payload.meta;
}

export function link(v: unknown, field: string): CID {
  const cid = CID.asCID(v);
  if (cid === null) throw invalidPayload(`"${field}" must be a CID link`);
  return cid;
}

/** Copy of `fields` without undefined entries, ready for DAG-CBOR. */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
