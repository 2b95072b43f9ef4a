/**
 * NIP-44 v2 as the bridge uses it: nostr-tools' implementation behind the
 * spec's bounds, which nostr-tools 2.25 no longer enforces itself. A payload
 * is 132 to 87,472 base64 characters, checked before it is decoded (the
 * spec's guard against a decoder DoS), which also refuses the longer
 * "extended" form nostr-tools reads and writes for plaintexts over 65,535
 * bytes and no other client does. What the bridge sends is cut to fit
 * (`fitDmText`), so every layer it seals stays a standard NIP-44 payload.
 * Cross-checked against the official vectors (tests/fixtures/nip44/).
 */
import { decrypt, getConversationKey } from "nostr-tools/nip44";
import { utf8 } from "#protocol";

/** The smallest and largest NIP-44 v2 payload: base64 of a padded 1..65,535-byte plaintext. */
export const NIP44_MIN_PAYLOAD = 132;
export const NIP44_MAX_PAYLOAD = 87_472;

/**
 * How long (UTF-8 bytes, JSON-escaped) a DM's text may be so that the gift
 * wrap around the seal around the rumor stays within NIP-44's 65,535-byte
 * plaintext: the rumor pads to at most 32 KiB, its seal to 44 KB.
 */
export const MAX_DM_TEXT_BYTES = 32_000;
const CUT = "\n…(cut: longer than a DM carries)";

/** The conversation key between `secret` and the x-only `pubkey`; throws for a key off the curve. */
export function conversationKey(secret: Uint8Array, pubkey: string): Uint8Array {
  return getConversationKey(secret, pubkey);
}

/** Decrypt a NIP-44 v2 `payload`; throws (saying why) for one out of bounds, tampered or badly padded. */
export function decryptPayload(payload: string, key: Uint8Array): string {
  if (payload.length < NIP44_MIN_PAYLOAD || payload.length > NIP44_MAX_PAYLOAD) {
    throw new Error(
      `a NIP-44 payload is ${NIP44_MIN_PAYLOAD} to ${NIP44_MAX_PAYLOAD} characters, not ${payload.length}`,
    );
  }
  return decrypt(payload, key);
}

/** The bytes `text` takes inside a rumor's JSON. */
const escapedBytes = (text: string) => utf8(JSON.stringify(text)).length - 2;

/** `text` as a DM carries it: whole when it fits, else cut on a character boundary and marked as cut. */
export function fitDmText(text: string): string {
  if (escapedBytes(text) <= MAX_DM_TEXT_BYTES) return text;
  const budget = MAX_DM_TEXT_BYTES - escapedBytes(CUT);
  let used = 0;
  let end = 0;
  for (const ch of text) {
    used += escapedBytes(ch);
    if (used > budget) break;
    end += ch.length;
  }
  return text.slice(0, end) + CUT;
}
