/**
 * UCAN 1.0 invocations (`ucan/inv@1.0.0`; `…@1.0.0-rc.1` still read): decode with full shape
 * checks, and sign new ones. `prf` lists delegation CIDs root first: the
 * first is issued by the subject, each next one by the previous audience,
 * the last to the invoker.
 */
import type { CID } from "multiformats/cid";
import type { Signer } from "../identity/ed25519.ts";
import { randomBytes } from "../bytes.ts";
import { type DecodedEnvelope, decodeEnvelope, isInvocationTag, signEnvelope, TAG_INVOCATION } from "./envelope.ts";
import { UcanError } from "./errors.ts";
import * as f from "./payload-checks.ts";
import { type Ipld, isMap } from "./policy/ipld.ts";
import type { Delegation } from "./delegation.ts";

export interface Invocation {
  readonly cid: CID;
  readonly bytes: Uint8Array;
  readonly envelope: DecodedEnvelope;
  readonly iss: string;
  readonly sub: string;
  readonly aud?: string;
  readonly cmd: string;
  readonly args: Record<string, Ipld>;
  readonly prf: readonly CID[];
  readonly nonce: Uint8Array;
  readonly exp: number | null;
  readonly iat?: number;
  readonly meta?: Record<string, Ipld>;
  readonly cause?: CID;
}

const FIELDS = new Set(["iss", "sub", "aud", "cmd", "args", "prf", "nonce", "exp", "iat", "meta", "cause"]);
/** Longer chains are refused outright: they are either a mistake or an attack. */
export const MAX_PROOFS = 16;

export function invocationFromEnvelope(envelope: DecodedEnvelope): Invocation {
  if (!isInvocationTag(envelope.tag)) {
    throw new UcanError("MalformedToken", `expected an invocation (${TAG_INVOCATION}), got ${envelope.tag}`);
  }
  const p = envelope.payload;
  f.onlyKnownFields(p, FIELDS, "invocation");
  if (!isMap(p.args)) throw f.invalidPayload('"args" must be a map');
  if (!Array.isArray(p.prf)) throw f.invalidPayload('"prf" must be a list of delegation CIDs');
  if (p.prf.length > MAX_PROOFS) throw f.invalidPayload(`"prf" has ${p.prf.length} proofs; at most ${MAX_PROOFS}`);
  const iat = f.optionalTime(p, "iat");
  const meta = f.optionalMeta(p);
  return {
    cid: envelope.cid,
    bytes: envelope.bytes,
    envelope,
    iss: f.did(p, "iss"),
    sub: f.did(p, "sub"),
    ...(Object.hasOwn(p, "aud") ? { aud: f.did(p, "aud") } : {}),
    cmd: f.command(p),
    args: p.args,
    prf: p.prf.map((c, i) => f.link(c, `prf[${i}]`)),
    nonce: f.nonce(p),
    exp: f.nullableTime(p, "exp"),
    ...(iat !== undefined ? { iat } : {}),
    ...(meta !== undefined ? { meta } : {}),
    ...(Object.hasOwn(p, "cause") ? { cause: f.link(p.cause, "cause") } : {}),
  };
}

/** Decode an invocation token (shape only; signature and proofs unchecked). */
export function decodeInvocation(bytes: Uint8Array): Invocation {
  return invocationFromEnvelope(decodeEnvelope(bytes));
}

export interface InvokeOptions {
  issuer: Signer;
  subject: string;
  command: string;
  args: Record<string, Ipld>;
  /** The delegation chain, root first. Empty when the issuer is the subject. */
  proofs: readonly (Delegation | CID)[];
  /** Unix seconds, or null for no expiry. */
  expiration: number | null;
  audience?: string;
  issuedAt?: number;
  meta?: Record<string, Ipld>;
  cause?: CID;
  nonce?: Uint8Array;
}

export async function invoke(options: InvokeOptions): Promise<Invocation> {
  const payload = f.defined({
    iss: options.issuer.did,
    sub: options.subject,
    aud: options.audience,
    cmd: options.command,
    args: options.args,
    prf: options.proofs.map((p) => ("envelope" in p ? p.cid : p)),
    nonce: options.nonce ?? randomBytes(12),
    exp: options.expiration,
    iat: options.issuedAt,
    meta: options.meta,
    cause: options.cause,
  });
  return decodeInvocation(await signEnvelope(options.issuer, TAG_INVOCATION, payload));
}
