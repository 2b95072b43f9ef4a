/**
 * Opening an incoming NIP-17 DM (a kind 14 rumor, sealed in a kind 13 signed
 * by the sender, gift-wrapped in a kind 1059 signed by a one-time key) as
 * NIP-59 says, trusting nothing: every layer's size is bounded before it is
 * decrypted or parsed, both signatures are checked, the seal's author must be
 * the rumor's (else anyone could put words in another's mouth), and the
 * rumor's id is recomputed, since it is what deduplication keys on.
 */
import { getEventHash, type NostrEvent, verifyEvent } from "nostr-tools/pure";
import { NostrDropped } from "./errors.ts";
import { conversationKey, decryptPayload, NIP44_MAX_PAYLOAD } from "./nip44.ts";

/** A kind 14 message as the sender wrote it, its id checked. */
export interface Rumor {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function event(value: unknown, kind: number, layer: string): NostrEvent {
  const e = value as NostrEvent;
  if (
    typeof e !== "object" || e === null || e.kind !== kind || typeof e.content !== "string" ||
    typeof e.pubkey !== "string" || !HEX64.test(e.pubkey) || !Number.isSafeInteger(e.created_at) ||
    !Array.isArray(e.tags) || !e.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === "string"))
  ) {
    throw new NostrDropped("malformed", `the ${layer} is not a kind ${kind} event`);
  }
  return e;
}

function open(payload: string, secret: Uint8Array, from: string, maxBytes: number, layer: string): unknown {
  if (payload.length > maxBytes) {
    throw new NostrDropped("oversized", `the ${layer} carries ${payload.length} bytes, more than ${maxBytes}`);
  }
  let text: string;
  try {
    text = decryptPayload(payload, conversationKey(secret, from));
  } catch (e) {
    throw new NostrDropped("undecryptable", `the ${layer} does not decrypt with this key (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new NostrDropped("malformed", `the ${layer} does not hold JSON`);
  }
}

/**
 * Unwrap `wrap` for the key (`secret`, `pubkey`); `maxBytes` bounds each
 * encrypted layer. Throws NostrDropped with the reason when anything is off.
 */
export function unwrapDm(wrap: unknown, secret: Uint8Array, pubkey: string, maxBytes: number): Rumor {
  const limit = Math.min(maxBytes, NIP44_MAX_PAYLOAD);
  const w = event(wrap, 1059, "gift wrap");
  if (!w.tags.some((t) => t[0] === "p" && t[1] === pubkey)) {
    throw new NostrDropped("not-for-us", "the gift wrap is addressed to another key");
  }
  if (w.content.length > limit) {
    throw new NostrDropped("oversized", `the gift wrap carries ${w.content.length} bytes, more than ${limit}`);
  }
  if (!verifyEvent(w)) throw new NostrDropped("bad-signature", "the gift wrap's signature does not verify");
  const seal = event(open(w.content, secret, w.pubkey, limit, "gift wrap"), 13, "seal");
  if (typeof seal.sig !== "string" || typeof seal.id !== "string" || !verifyEvent(seal)) {
    throw new NostrDropped("bad-signature", "the seal's signature does not verify");
  }
  const rumor = event(open(seal.content, secret, seal.pubkey, limit, "seal"), 14, "rumor") as NostrEvent & Rumor;
  if (rumor.pubkey !== seal.pubkey) {
    throw new NostrDropped("forged-seal", `the seal is signed by ${seal.pubkey}, the rumor claims ${rumor.pubkey}`);
  }
  if (typeof rumor.id !== "string" || rumor.id !== getEventHash(rumor)) {
    throw new NostrDropped("bad-rumor-id", "the rumor's id is not the hash of its content");
  }
  if (!rumor.tags.some((t) => t[0] === "p" && t[1] === pubkey)) {
    throw new NostrDropped("not-a-dm", "the rumor does not name this key as a recipient");
  }
  const { id, pubkey: from, created_at, kind, tags, content } = rumor;
  return { id, pubkey: from, created_at, kind, tags, content };
}
