/**
 * What this device remembers having verified (the entries of a
 * RememberingVerifier, protocol/identity), kept in IndexedDB signed with the
 * device's own key, so the next visit re-verifies only the signatures it has
 * not checked before instead of every operation of the space again. Only
 * the device can add to it: a record whose signature is not this device's
 * (changed in IndexedDB, or written by anyone else) is refused, deleted and
 * never used, and everything is verified anew. Nothing else is trusted from
 * it: every operation is still decoded, hashed, checked against its chain
 * and reduced on every visit.
 */
import {
  didFromPublicKey,
  MAX_REMEMBERED,
  REMEMBERED_DIGEST_BYTES,
  RememberingVerifier,
  type Signer,
  type Verifier,
} from "#protocol/identity";
import { concatBytes, utf8 } from "#protocol";
import type { WeftDb } from "./db.ts";

/** Where the record is kept. */
export const VERIFIED_KEY = "verified";

interface Stored {
  digests: Uint8Array;
  signature: Uint8Array;
}

/** What the signature covers: the entries, bound to the device and to what they are. */
const signed = (did: string, digests: Uint8Array) => concatBytes(utf8(`weft/verified-set/1 ${did}\n`), digests);

/** Sign and keep what `verifier` remembers; durable when this resolves. */
export async function saveVerified(db: WeftDb, signer: Signer, verifier: RememberingVerifier): Promise<void> {
  const digests = verifier.export();
  const signature = await signer.sign(signed(signer.did, digests));
  await db.put("settings", { digests, signature } satisfies Stored, VERIFIED_KEY);
}

export interface OpenedVerifier {
  verifier: RememberingVerifier;
  /** Why the record kept last time was not used, when there was one and it did not check out. */
  refused?: string;
}

/**
 * A verifier over `inner` that starts from what this device kept, if the
 * record is there and checks out (signed by this device's key, within
 * bounds); one that does not is deleted, and the verifier starts empty.
 */
export async function openVerifier(db: WeftDb, inner: Verifier): Promise<OpenedVerifier> {
  const [stored, key] = await Promise.all([db.get("settings", VERIFIED_KEY), db.get("keys", "device")]);
  if (stored === undefined || key === undefined) return { verifier: new RememberingVerifier(inner) };
  const did = didFromPublicKey(key.publicKey);
  const s = stored as Partial<Stored>;
  let refused: string | undefined;
  if (
    typeof s !== "object" || s === null || !(s.digests instanceof Uint8Array) || !(s.signature instanceof Uint8Array)
  ) {
    refused = "it is not a record of verified signatures";
  } else if (
    s.digests.length % REMEMBERED_DIGEST_BYTES !== 0 || s.digests.length > MAX_REMEMBERED * REMEMBERED_DIGEST_BYTES
  ) {
    refused = "it is malformed or over its bounds";
  } else if (!await inner.verify(did, signed(did, s.digests), s.signature)) {
    refused = "its signature is not this device's: it was changed after this browser saved it";
  } else {
    return { verifier: new RememberingVerifier(inner, s.digests) };
  }
  await db.delete("settings", VERIFIED_KEY);
  return { verifier: new RememberingVerifier(inner), refused };
}
