/**
 * A verifier that remembers the signatures it found good, so a node that
 * reopens its own store checks only what it has not checked before: a
 * browser re-reading 50,000 operations from IndexedDB on every visit spends
 * most of its start in Ed25519 verifies it already made last time.
 *
 * An entry is a digest of the signer, the message and the signature
 * together: change any of them (a payload edited under a lifted signature,
 * a signature moved to another signer) and it is a different entry, checked
 * anew. For a UCAN token the digest starts from its CID, which the
 * validator computed anyway: the envelope's bytes are exactly signature and
 * signed payload, so a second hash of the message is spared. Only good verdicts are remembered; a bad one is checked again each
 * time. The set can be exported for the node to keep, and it must keep it
 * so that nobody else can add to it (the browser signs it with its own
 * device key: pwa/src/node/verified-store.ts); an imported set is trusted
 * as the node's own memory, nothing more.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8 } from "../bytes.ts";
import type { Verifier } from "./ed25519.ts";

/** Bytes of one remembered entry (a truncated SHA-256: 128 bits against second preimages). */
export const REMEMBERED_DIGEST_BYTES = 16;
/** Entries kept at most, oldest forgotten first (4 MiB exported). */
export const MAX_REMEMBERED = 262_144;

const DOMAIN = utf8("weft/verified-signature/1\0");

/**
 * The entry for a signature by `did`, from `signed`: a SHA-256 digest of
 * bytes holding exactly the signature and the message (see `verifyDigested`).
 */
export function rememberedDigest(did: string, signed: Uint8Array): Uint8Array {
  const id = utf8(did);
  return sha256(concatBytes(DOMAIN, new Uint8Array([id.length >> 8, id.length & 0xff]), id, signed))
    .subarray(0, REMEMBERED_DIGEST_BYTES);
}

/** What `verify` keys on when the caller holds no digest: the signature, then the message. */
export const signedDigest = (message: Uint8Array, signature: Uint8Array) => sha256(concatBytes(signature, message));

const keyOf = (digest: Uint8Array) => String.fromCharCode(...digest);

export interface VerifyCounts {
  /** Verdicts answered from memory: signatures this node had verified before. */
  remembered: number;
  /** Signatures verified now. */
  checked: number;
}

export class RememberingVerifier implements Verifier {
  readonly #inner: Verifier;
  readonly #known = new Set<string>();
  readonly #limit: number;
  /** Bumped whenever an entry is added, so a keeper knows when to save. */
  version = 0;
  readonly counts: VerifyCounts = { remembered: 0, checked: 0 };

  /** `known`: entries exported before (REMEMBERED_DIGEST_BYTES each). */
  constructor(inner: Verifier, known?: Uint8Array, limit = MAX_REMEMBERED) {
    this.#inner = inner;
    this.#limit = limit;
    if (known === undefined) return;
    for (let i = 0; i + REMEMBERED_DIGEST_BYTES <= known.length; i += REMEMBERED_DIGEST_BYTES) {
      this.#add(keyOf(known.subarray(i, i + REMEMBERED_DIGEST_BYTES)));
    }
  }

  verify(did: string, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return this.verifyDigested(signedDigest(message, signature), did, message, signature);
  }

  /**
   * `digest`: a SHA-256 digest of bytes made of exactly `signature` and
   * `message` in a fixed layout (a UCAN envelope's CID): what the entry is
   * keyed on, so the message is not hashed twice.
   */
  async verifyDigested(digest: Uint8Array, did: string, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const key = keyOf(rememberedDigest(did, digest));
    if (this.#known.has(key)) {
      this.counts.remembered++;
      return true;
    }
    const ok = await this.#inner.verify(did, message, signature);
    this.counts.checked++;
    if (ok) {
      this.#add(key);
      this.version++;
    }
    return ok;
  }

  get size(): number {
    return this.#known.size;
  }

  /** Every entry, oldest first, for the node to keep. */
  export(): Uint8Array {
    const out = new Uint8Array(this.#known.size * REMEMBERED_DIGEST_BYTES);
    let at = 0;
    for (const key of this.#known) {
      for (let i = 0; i < REMEMBERED_DIGEST_BYTES; i++) out[at++] = key.charCodeAt(i);
    }
    return out;
  }

  #add(key: string): void {
    this.#known.delete(key);
    if (this.#known.size >= this.#limit) this.#known.delete(this.#known.values().next().value as string);
    this.#known.add(key);
  }
}
