/**
 * Where the validator finds things: a ProofStore resolves delegation CIDs
 * to tokens, a RevocationStore answers whether a delegation is revoked,
 * and a VerificationCache remembers tokens whose signature and shape were
 * already checked, keyed by CID (the hash of the exact bytes), so a chain
 * seen before is not verified again. Shells may back the stores with
 * documents or disk; the memory versions here are the reference.
 */
import type { CID } from "multiformats/cid";
import { cidKey } from "../codec/cid.ts";
import type { Delegation } from "./delegation.ts";
import type { Invocation } from "./invocation.ts";

export interface ProofStore {
  /** The delegation token's bytes for `cid`, or undefined if unknown. */
  get(cid: CID): Promise<Uint8Array | undefined> | Uint8Array | undefined;
}

export interface RevocationStore {
  /** True when a valid revocation for this delegation CID is known. */
  isRevoked(delegation: CID): Promise<boolean> | boolean;
}

export class MemoryProofStore implements ProofStore {
  readonly #tokens = new Map<string, Uint8Array>();

  /** Add delegations (decoded or as CID+bytes). */
  put(...delegations: Array<{ cid: CID; bytes: Uint8Array }>): this {
    for (const d of delegations) this.#tokens.set(cidKey(d.cid), d.bytes);
    return this;
  }

  get(cid: CID): Uint8Array | undefined {
    return this.#tokens.get(cidKey(cid));
  }

  get size(): number {
    return this.#tokens.size;
  }

  /** Every token held. */
  all(): Uint8Array[] {
    return [...this.#tokens.values()];
  }
}

export class MemoryRevocationStore implements RevocationStore {
  readonly #revoked = new Set<string>();

  /** Record a revocation that has already been validated (see revocation.ts). */
  add(delegation: CID): void {
    this.#revoked.add(cidKey(delegation));
  }

  isRevoked(delegation: CID): boolean {
    return this.#revoked.has(cidKey(delegation));
  }

  /** isRevoked for a precomputed cidKey (a check made on every request of an API session). */
  isRevokedKey(key: string): boolean {
    return this.#revoked.has(key);
  }

  get size(): number {
    return this.#revoked.size;
  }
}

/** Tokens whose signature and shape were verified, by CID, least recently used evicted first. */
export class VerificationCache {
  readonly #entries = new Map<string, Delegation | Invocation>();
  readonly #limit: number;
  /** Lookups answered from the cache, and those that were not. */
  hits = 0;
  misses = 0;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  get(cid: CID): Delegation | Invocation | undefined {
    const key = cidKey(cid);
    const hit = this.#entries.get(key);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  set(token: Delegation | Invocation): void {
    if (this.#entries.size >= this.#limit) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(cidKey(token.cid), token);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
