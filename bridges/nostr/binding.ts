/**
 * Binding a Nostr key to a DID so that anyone can check it, both ways: the
 * DID signs "this Nostr key is mine" (Ed25519), and the Nostr key signs the
 * event that carries that signature (its kind 0 profile, a Schnorr
 * signature). A client that trusts the DID can then trust DMs from and to
 * the key, and a Weft node can tell which DID a Nostr key speaks for.
 */
import { type EventTemplate, type NostrEvent, verifyEvent } from "nostr-tools/pure";
import { fromBase64Url, toBase64Url, utf8 } from "#protocol";
import type { Verifier } from "#protocol/identity";

/** The tag a bound event carries: ["weft-did", did, base64url(Ed25519 signature)]. */
export const BINDING_TAG = "weft-did";

const statement = (did: string, pubkey: string) => utf8(`weft-nostr-binding\n${did}\n${pubkey}`);

/** The tag that binds `pubkey` to `did`, signed by the DID's key (`sign`). */
export async function bindingTag(
  did: string,
  pubkey: string,
  sign: (m: Uint8Array) => Promise<Uint8Array>,
): Promise<string[]> {
  return [BINDING_TAG, did, toBase64Url(await sign(statement(did, pubkey)))];
}

/** The profile (kind 0) of a bound key: a name, what it is, and the binding. */
export function profileTemplate(name: string, about: string, tag: string[], now: number): EventTemplate {
  return { kind: 0, created_at: now, tags: [tag], content: JSON.stringify({ name, about, weft_did: tag[1] }) };
}

/**
 * The DID a signed event's key is bound to, if the event carries a binding
 * both signatures of which verify; undefined otherwise.
 */
export async function boundDid(event: NostrEvent, verifier: Verifier): Promise<string | undefined> {
  if (!verifyEvent(event)) return undefined;
  const tag = event.tags.find((t) => t[0] === BINDING_TAG && t.length === 3);
  if (!tag) return undefined;
  const [, did, sig] = tag;
  try {
    return (await verifier.verify(did, statement(did, event.pubkey), fromBase64Url(sig))) ? did : undefined;
  } catch {
    return undefined;
  }
}
