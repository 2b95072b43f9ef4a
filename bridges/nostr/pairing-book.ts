/**
 * Who the bridge talks to, durably: Nostr keys paired with a DID, codes
 * handed out and not yet confirmed (one per key, short-lived, one-time),
 * and the unpaired keys already given their one answer. Bounded: a flood of
 * strangers cannot grow it past its limits. Saved with write-to-temp, fsync
 * and rename after every change, before the bridge answers.
 */
import { open, rename } from "node:fs/promises";
import { readStateFile } from "./state-file.ts";
import { pairingProof } from "#protocol/bridge";

export interface Paired {
  did: string;
  /** The space the pairing delegation was made in. */
  space: string;
  at: number;
}

interface Pending {
  code: string;
  expiresAt: number;
}

interface BookFile {
  version: 1;
  paired: Record<string, Paired>;
  pending: Record<string, Pending>;
  greeted: string[];
}

/**
 * Codes alive at once. Past this the oldest is dropped (its person asks
 * again) rather than new ones refused: Nostr keys cost nothing, so refusing
 * would let one stranger with many keys lock everyone out for a code's life.
 */
const MAX_PENDING = 256;
/** Unpaired keys remembered as answered; past this the oldest are forgotten (and could get one more answer). */
const MAX_GREETED = 10_000;
const MAX_FILE = 16 * 1024 * 1024;
/** Crockford base32, no look-alikes: a code is read off a phone and typed. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 10 symbols, 50 bits, as XXXXX-XXXXX. */
function newCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const s = [...bytes].map((b) => ALPHABET[b & 31]).join("");
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

export class PairingBook {
  readonly #path: string;
  readonly #now: () => number;
  #book: BookFile;

  private constructor(path: string, book: BookFile, now: () => number) {
    this.#path = path;
    this.#book = book;
    this.#now = now;
  }

  static async open(path: string, now: () => number = Date.now): Promise<PairingBook> {
    const book = await readStateFile<BookFile>(path, {
      maxBytes: MAX_FILE,
      what: "the Nostr bridge's state",
      valid: (p): p is BookFile => {
        const f = p as BookFile;
        return f?.version === 1 && typeof f.paired === "object" && Array.isArray(f.greeted);
      },
      startOver: "start over (everyone pairs again)",
    }) ?? { version: 1, paired: {}, pending: {}, greeted: [] };
    return new PairingBook(path, book, now);
  }

  paired(pubkey: string): Paired | undefined {
    return Object.hasOwn(this.#book.paired, pubkey) ? this.#book.paired[pubkey] : undefined;
  }

  /** Everyone paired, by Nostr key. */
  all(): Array<[string, Paired]> {
    return Object.entries(this.#book.paired);
  }

  /**
   * A fresh code for `pubkey`, valid `ttlMs`; undefined when it has one live
   * already (one per key: it is told nothing new). When MAX_PENDING are live,
   * the one closest to expiring makes room.
   */
  async issue(pubkey: string, ttlMs: number): Promise<string | undefined> {
    const now = this.#now();
    this.#expire(now);
    if (Object.hasOwn(this.#book.pending, pubkey)) return undefined;
    const live = Object.entries(this.#book.pending);
    if (live.length >= MAX_PENDING) {
      const [oldest] = live.reduce((a, b) => (b[1].expiresAt < a[1].expiresAt ? b : a));
      delete this.#book.pending[oldest];
    }
    const code = newCode();
    this.#book.pending[pubkey] = { code, expiresAt: now + ttlMs };
    await this.#save();
    return code;
  }

  /**
   * Confirm a pairing: the Nostr key whose live code `proof` proves for
   * `issuer` (pairing-proof.ts) is paired with `issuer`, and the code is used
   * up. Undefined when no live code matches.
   */
  async confirm(proof: string, issuer: string, space: string): Promise<string | undefined> {
    const now = this.#now();
    this.#expire(now);
    const hit = Object.entries(this.#book.pending).find(([, p]) => pairingProof(p.code, issuer) === proof);
    if (!hit) return undefined;
    const [pubkey] = hit;
    delete this.#book.pending[pubkey];
    this.#book.paired[pubkey] = { did: issuer, space, at: now };
    this.#book.greeted = this.#book.greeted.filter((k) => k !== pubkey);
    await this.#save();
    return pubkey;
  }

  /** Forget a pairing (the person's delegations to the bridge were all revoked or lapsed). */
  async unpair(pubkey: string): Promise<void> {
    if (!Object.hasOwn(this.#book.paired, pubkey)) return;
    delete this.#book.paired[pubkey];
    await this.#save();
  }

  /** Record that an unpaired key got its one answer; false if it had one already. */
  async greet(pubkey: string): Promise<boolean> {
    if (this.#book.greeted.includes(pubkey)) return false;
    this.#book.greeted.push(pubkey);
    if (this.#book.greeted.length > MAX_GREETED) this.#book.greeted.shift();
    await this.#save();
    return true;
  }

  #expire(now: number): void {
    for (const [k, p] of Object.entries(this.#book.pending)) {
      if (p.expiresAt <= now) delete this.#book.pending[k];
    }
  }

  async #save(): Promise<void> {
    const tmp = `${this.#path}.tmp`;
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(JSON.stringify(this.#book));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.#path);
  }
}
