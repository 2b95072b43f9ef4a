/**
 * Radicle's identifiers as text: a node id (NID) is an Ed25519 public key
 * as `z6Mk…` (a did:key without its `did:key:` prefix, so a Weft DID's key
 * is a Radicle NID as it is); a repository id (RID) is `rad:z…`, the
 * base58btc multibase of the identity document's 20-byte blob id; a
 * signature in an action is base58btc multibase of its 64 bytes.
 */
import { base58btc } from "multiformats/bases/base58";
import { didFromPublicKey, publicKeyFromDid } from "#protocol/identity";
import { fromHex, toHex } from "#protocol";
import { RadicleMalformed } from "./errors.ts";

export const OID = /^[0-9a-f]{40}$/;

export function nidOf(publicKey: Uint8Array): string {
  return didFromPublicKey(publicKey).slice("did:key:".length);
}

export function nidOfDid(did: string): string {
  return nidOf(publicKeyFromDid(did));
}

/** `rad:z…` for the identity document's blob id. */
export function ridOf(docBlob: string): string {
  return `rad:${base58btc.encode(fromHex(checkOid(docBlob, "identity document blob")))}`;
}

export function oidOfRid(rid: string): string {
  const m = /^rad:(z[1-9A-HJ-NP-Za-km-z]{20,40})$/.exec(rid);
  if (!m) throw new RadicleMalformed("repository id", `${JSON.stringify(rid.slice(0, 60))} is not rad:z…`);
  const bytes = base58btc.decode(m[1]);
  if (bytes.length !== 20) throw new RadicleMalformed("repository id", "does not name a 20-byte object id");
  return toHex(bytes);
}

export function encodeSignature(signature: Uint8Array): string {
  return base58btc.encode(signature);
}

export function decodeSignature(text: unknown): Uint8Array {
  if (typeof text !== "string" || !/^z[1-9A-HJ-NP-Za-km-z]{80,100}$/.test(text)) {
    throw new RadicleMalformed("signature", "is not a base58btc multibase string");
  }
  const bytes = base58btc.decode(text);
  if (bytes.length !== 64) {
    throw new RadicleMalformed("signature", `has ${bytes.length} bytes, an Ed25519 signature has 64`);
  }
  return bytes;
}

/** A git object id, checked: 40 lowercase hex digits. */
export function checkOid(value: unknown, what: string): string {
  if (typeof value !== "string" || !OID.test(value)) {
    throw new RadicleMalformed(what, "is not a 40-digit git object id");
  }
  return value;
}
