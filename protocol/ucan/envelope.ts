/**
 * The UCAN 1.0 envelope: `[signature, {"h": varsig header, "<tag>": payload}]`
 * in DAG-CBOR, where the signature covers the DAG-CBOR bytes of the inner
 * map (the "SigPayload"). Weft signs with Ed25519 only, so the one accepted
 * varsig header is `0x34 01 ed01 ed01 13 71` (varsig v1, EdDSA, curve
 * Ed25519, SHA2-512, payload encoded as DAG-CBOR).
 *
 * Decoding checks shape and canonical encoding but not the signature;
 * `verifyEnvelope` checks the signature against the payload's issuer.
 */
import { decodeStrict, encode, itemEnd, itemHead, MalformedCbor } from "../codec/dag-cbor.ts";
import { type CID, cidOf, SHA2_256 } from "../codec/cid.ts";
import { concatBytes, equalBytes } from "../bytes.ts";
import type { Signer, Verifier } from "../identity/ed25519.ts";
import { UcanError } from "./errors.ts";

/** varsig v1 header for Ed25519 signatures over DAG-CBOR payloads. */
export const VARSIG_ED25519_DAG_CBOR = new Uint8Array([0x34, 0x01, 0xed, 0x01, 0xed, 0x01, 0x13, 0x71]);

/** The tags Weft mints: UCAN 1.0.0 final. */
export const TAG_DELEGATION = "ucan/dlg@1.0.0";
export const TAG_INVOCATION = "ucan/inv@1.0.0";

/**
 * The tags Weft reads: the final ones, and 1.0.0-rc.1, which Weft minted
 * before 1.0.0 was final and which spaces still hold signed (the payload
 * shape is the same; only the tag, and so the signature and CID, differ).
 */
const DELEGATION_TAGS: ReadonlySet<string> = new Set([TAG_DELEGATION, "ucan/dlg@1.0.0-rc.1"]);
const INVOCATION_TAGS: ReadonlySet<string> = new Set([TAG_INVOCATION, "ucan/inv@1.0.0-rc.1"]);

export function isDelegationTag(tag: string): boolean {
  return DELEGATION_TAGS.has(tag);
}

export function isInvocationTag(tag: string): boolean {
  return INVOCATION_TAGS.has(tag);
}

/** Largest token Weft accepts. Tokens carry arguments, not files. */
export const MAX_TOKEN_BYTES = 64 * 1024;

export interface DecodedEnvelope {
  /** The whole token as received. */
  readonly bytes: Uint8Array;
  readonly cid: CID;
  readonly signature: Uint8Array;
  readonly tag: string;
  /** The payload map, not yet shape-checked. */
  readonly payload: Record<string, unknown>;
  /** The exact bytes the signature covers. */
  readonly signedBytes: Uint8Array;
}

function malformed(message: string, cause?: unknown): UcanError {
  return new UcanError("MalformedToken", message, { cause });
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) &&
    (v as { asCID?: unknown }).asCID === undefined;
}

/**
 * Parse a token's envelope. Throws UcanError (MalformedToken or
 * UnsupportedVarsig) for anything but canonical, well-shaped bytes.
 * `cid`: the CID of these bytes, when the caller has just computed it
 * (`cidOf(bytes)`), to spare hashing them twice.
 */
export function decodeEnvelope(bytes: Uint8Array, cid?: CID): DecodedEnvelope {
  let decoded: unknown;
  try {
    decoded = decodeStrict(bytes, { maxBytes: MAX_TOKEN_BYTES });
  } catch (e) {
    if (e instanceof MalformedCbor) throw malformed(e.message, e);
    throw e;
  }
  const top = itemHead(bytes, 0);
  if (top.major !== 4 || top.value !== 2) throw malformed("a token is a 2-element array [signature, payload]");
  const payloadStart = itemEnd(bytes, top.end);
  const [signature, sigPayload] = decoded as [unknown, unknown];
  if (!(signature instanceof Uint8Array)) throw malformed("the first element must be the signature bytes");
  if (!isPlainMap(sigPayload)) throw malformed("the second element must be a map {h, <type tag>: payload}");
  const keys = Object.keys(sigPayload);
  const header = sigPayload.h;
  if (!(header instanceof Uint8Array)) throw malformed('the signed map needs an "h" varsig header (bytes)');
  if (keys.length !== 2) throw malformed(`the signed map must have exactly 2 keys, got ${keys.length}`);
  const tag = keys.find((k) => k !== "h") as string;
  if (!equalBytes(header, VARSIG_ED25519_DAG_CBOR)) {
    throw new UcanError(
      "UnsupportedVarsig",
      "only the varsig header 0x3401ed01ed011371 (Ed25519 over DAG-CBOR) is supported",
    );
  }
  if (signature.length !== 64) {
    throw new UcanError("InvalidSignature", `an Ed25519 signature has 64 bytes, got ${signature.length}`);
  }
  const payload = sigPayload[tag];
  if (!isPlainMap(payload)) throw malformed(`the payload under ${JSON.stringify(tag)} must be a map`);
  return {
    bytes,
    cid: cid ?? cidOf(bytes),
    signature,
    tag,
    payload,
    signedBytes: bytes.subarray(payloadStart),
  };
}

/** Sign `payload` under `tag` and return the envelope's bytes. */
export async function signEnvelope(signer: Signer, tag: string, payload: Record<string, unknown>): Promise<Uint8Array> {
  const signedBytes = encode({ h: VARSIG_ED25519_DAG_CBOR, [tag]: payload });
  const signature = await signer.sign(signedBytes);
  // [0x82 array(2)] [0x58 0x40 bytes(64)] signature, then the signed map verbatim.
  return concatBytes(new Uint8Array([0x82, 0x58, 0x40]), signature, signedBytes);
}

/** Check the envelope's signature against `issuer`; throws InvalidSignature. */
export async function verifyEnvelope(
  envelope: DecodedEnvelope,
  issuer: string,
  verifier: Verifier,
  link?: number,
): Promise<void> {
  // The CID hashes [array(2), bytes(64) signature, signed map] in canonical form: signature and message, laid out fixed.
  const ok = verifier.verifyDigested && envelope.cid.multihash.code === SHA2_256
    ? await verifier.verifyDigested(envelope.cid.multihash.digest, issuer, envelope.signedBytes, envelope.signature)
    : await verifier.verify(issuer, envelope.signedBytes, envelope.signature);
  if (!ok) {
    throw new UcanError("InvalidSignature", `the signature does not verify for issuer ${issuer}`, {
      cid: envelope.cid.toString(),
      link,
    });
  }
}
