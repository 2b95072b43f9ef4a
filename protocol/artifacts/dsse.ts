/**
 * DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1.0.0):
 * the pre-authentication encoding, signing with a node's Ed25519 key
 * (keyid = its did:key), and verification against a set of trusted DIDs.
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *
 * where LEN is the decimal byte length. Signatures are base64 (standard,
 * padded); verification accepts standard or URL-safe base64, as the
 * protocol requires. keyid is only a hint for picking keys, never trusted.
 */
import { concatBytes, fromBase64Url, toBase64, utf8 } from "../bytes.ts";
import type { Signer, Verifier } from "../identity/ed25519.ts";
import { isDidKey } from "../identity/did-key.ts";
import { type Check, check, InvalidInput, list, object, optional, required, str } from "../schema/input-checks.ts";
import { ArtifactError } from "./errors.ts";

/** The payload type of in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseSignature {
  keyid?: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/** The largest payload accepted (base64 characters). */
const MAX_PAYLOAD = 4 * 1024 * 1024;

const base64: Check<string> = check((v, field) => {
  if (typeof v !== "string" || v.length > MAX_PAYLOAD || !/^[A-Za-z0-9_\-+/]*={0,2}$/.test(v)) {
    throw new InvalidInput(field, "must be base64 (standard or URL-safe)");
  }
  return v;
}, { type: "string", contentEncoding: "base64" });

export const dsseEnvelopeShape = object({
  payload: required(base64),
  payloadType: required(str(0, 256)),
  signatures: required(list(object({ keyid: optional(str(0, 256)), sig: required(base64) }), 16)),
});

/** The bytes a DSSE signature covers. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concatBytes(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

/** Sign `payload` as `payloadType` with one key; the keyid is the signer's DID. */
export async function signDsse(signer: Signer, payloadType: string, payload: Uint8Array): Promise<DsseEnvelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  return { payload: toBase64(payload), payloadType, signatures: [{ keyid: signer.did, sig: toBase64(sig) }] };
}

export interface DsseVerifyOptions {
  /** The DIDs whose signatures count. */
  keys: readonly string[];
  /** How many distinct trusted keys must have signed (default 1). */
  threshold?: number;
  /** Payload types the caller understands; anything else is refused after the signature check. */
  payloadTypes: readonly string[];
  verifier: Verifier;
}

export interface VerifiedDsse {
  payload: Uint8Array;
  payloadType: string;
  /** The trusted DIDs that signed, each once. */
  signers: string[];
}

/**
 * Verify an envelope (any JSON value, checked here) against trusted keys:
 * at least `threshold` distinct keys must have signed PAE(type, payload),
 * and the type must be one the caller supports.
 */
export async function verifyDsse(input: unknown, options: DsseVerifyOptions): Promise<VerifiedDsse> {
  let envelope: DsseEnvelope;
  try {
    envelope = dsseEnvelopeShape(input, "envelope");
  } catch (e) {
    throw new ArtifactError("artifact/bad-signature", `the provenance envelope is malformed: ${(e as Error).message}`);
  }
  const payload = fromBase64Url(envelope.payload);
  const message = pae(envelope.payloadType, payload);
  const trusted = options.keys.filter((k) => isDidKey(k));
  const accepted = new Set<string>();
  for (const s of envelope.signatures) {
    const sig = fromBase64Url(s.sig);
    const hinted = trusted.filter((k) => k === s.keyid && !accepted.has(k));
    const candidates = hinted.length > 0 ? hinted : trusted.filter((k) => !accepted.has(k));
    for (const key of candidates) {
      if (await options.verifier.verify(key, message, sig)) {
        accepted.add(key);
        break;
      }
    }
  }
  const threshold = options.threshold ?? 1;
  if (accepted.size < threshold) {
    throw new ArtifactError(
      "artifact/bad-signature",
      `the provenance envelope is not signed by ${
        threshold === 1 ? options.keys.join(" or ") : `${threshold} of ${options.keys.join(", ")}`
      }`,
    );
  }
  if (!options.payloadTypes.includes(envelope.payloadType)) {
    throw new ArtifactError(
      "artifact/bad-signature",
      `the provenance payload type ${JSON.stringify(envelope.payloadType)} is not one of ${
        options.payloadTypes.join(", ")
      }`,
    );
  }
  return { payload, payloadType: envelope.payloadType, signers: [...accepted] };
}
