/**
 * UCAN 1.0 delegations (`ucan/dlg@1.0.0`; `…@1.0.0-rc.1` still read): decode with full shape
 * checks, and issue new ones. Decoding never checks the signature; that is
 * the validator's job (see validator.ts), which caches the result by CID.
 */
import type { CID } from "multiformats/cid";
import type { Signer } from "../identity/ed25519.ts";
import { randomBytes } from "../bytes.ts";
import { type DecodedEnvelope, decodeEnvelope, isDelegationTag, signEnvelope, TAG_DELEGATION } from "./envelope.ts";
import { UcanError } from "./errors.ts";
import * as f from "./payload-checks.ts";
import type { Ipld } from "./policy/ipld.ts";
import { parsePolicy, type Policy } from "./policy/policy.ts";

export interface Delegation {
  readonly cid: CID;
  readonly bytes: Uint8Array;
  readonly envelope: DecodedEnvelope;
  readonly iss: string;
  readonly aud: string;
  /** null for a powerline delegation: whatever the issuer may do, for any subject. */
  readonly sub: string | null;
  readonly cmd: string;
  readonly pol: Policy;
  readonly nonce: Uint8Array;
  readonly meta?: Record<string, Ipld>;
  readonly nbf?: number;
  readonly exp: number | null;
}

const FIELDS = new Set(["iss", "aud", "sub", "cmd", "pol", "nonce", "meta", "nbf", "exp"]);

/** Parse a delegation's fields out of an already-decoded envelope. */
export function delegationFromEnvelope(envelope: DecodedEnvelope): Delegation {
  if (!isDelegationTag(envelope.tag)) {
    throw new UcanError("MalformedToken", `expected a delegation (${TAG_DELEGATION}), got ${envelope.tag}`);
  }
  const p = envelope.payload;
  f.onlyKnownFields(p, FIELDS, "delegation");
  if (!Object.hasOwn(p, "sub")) throw f.invalidPayload('"sub" is required (null for a powerline)');
  const nbf = f.optionalTime(p, "nbf");
  const exp = f.nullableTime(p, "exp");
  if (nbf !== undefined && exp !== null && nbf > exp) throw f.invalidPayload('"nbf" is after "exp"');
  const meta = f.optionalMeta(p);
  return {
    cid: envelope.cid,
    bytes: envelope.bytes,
    envelope,
    iss: f.did(p, "iss"),
    aud: f.did(p, "aud"),
    sub: p.sub === null ? null : f.did(p, "sub"),
    cmd: f.command(p),
    pol: parsePolicy(p.pol),
    nonce: f.nonce(p),
    exp,
    ...(meta !== undefined ? { meta } : {}),
    ...(nbf !== undefined ? { nbf } : {}),
  };
}

/** Decode a delegation token (shape only; signature unchecked). */
export function decodeDelegation(bytes: Uint8Array): Delegation {
  return delegationFromEnvelope(decodeEnvelope(bytes));
}

export interface DelegateOptions {
  issuer: Signer;
  audience: string;
  /** The subject DID, or null for a powerline delegation. */
  subject: string | null;
  command: string;
  /** Policy statements in their IPLD form, e.g. [["==", ".label", "docs"]]. */
  policy?: Ipld[];
  /** Unix seconds, or null for no expiry. Required so that "forever" is a choice. */
  expiration: number | null;
  notBefore?: number;
  meta?: Record<string, Ipld>;
  nonce?: Uint8Array;
}

/** Issue and sign a delegation; the result is checked by the same decoder that checks received ones. */
export async function delegate(options: DelegateOptions): Promise<Delegation> {
  const payload = f.defined({
    iss: options.issuer.did,
    aud: options.audience,
    sub: options.subject,
    cmd: options.command,
    pol: options.policy ?? [],
    nonce: options.nonce ?? randomBytes(12),
    meta: options.meta,
    nbf: options.notBefore,
    exp: options.expiration,
  });
  return decodeDelegation(await signEnvelope(options.issuer, TAG_DELEGATION, payload));
}
