/**
 * Pairing a person's outside identity (a Nostr key) with their DID without
 * trusting a message alone: the bridge hands a one-time code to the outside
 * identity, and the person confirms by delegating to the bridge with this
 * proof in the delegation's meta (`meta.pairing`). The proof binds the code
 * to the delegation's issuer, so a member who sees it in the space document
 * cannot reuse it under their own DID, and the code itself never appears.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toBase64Url, utf8 } from "../bytes.ts";

/** The meta key a pairing proof travels under (what it means to every node: ucan/principal.ts). */
export { PAIRING_META } from "../ucan/principal.ts";

/** A code as typed: case, spaces and dashes do not matter. */
export function normalizePairingCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

/** base64url(sha256("weft-bridge-pairing\n" + normalized code + "\n" + issuer DID)). */
export function pairingProof(code: string, issuer: string): string {
  return toBase64Url(sha256(utf8(`weft-bridge-pairing\n${normalizePairingCode(code)}\n${issuer}`)));
}
