/**
 * Who may do what in one space, as every node derives it from the space
 * document: the verified delegations (the graph of authority from the root
 * DID down), the validated revocations, and from those the members and
 * devices, and the chain this node presents when it acts.
 */
import type { CID } from "multiformats/cid";
import { cidKey, cidOf } from "../codec/cid.ts";
import type { Verifier } from "../identity/ed25519.ts";
import { type Delegation, proves, type Revocation, UcanError, validateRevocation, Validator } from "../ucan/index.ts";
import { VerificationCache } from "../ucan/stores.ts";
import type { Clock } from "../ucan/validator.ts";
import { neutralized } from "../schema/names.ts";
import { compareHlc, type Hlc } from "../tasks/hlc.ts";
import { revocationPosition } from "../tasks/ended-authority.ts";

export interface Member {
  did: string;
  /** From the delegation's meta: a display name. */
  name?: string;
  /** From the delegation's meta: member, device or agent. */
  kind: string;
  /** Who delegated to it. */
  by: string;
  /** The commands it holds (root first chains may repeat). */
  commands: string[];
  /** Unix seconds, or null: when its authority lapses. */
  expires: number | null;
  /** CIDs of the delegations to it. */
  delegations: string[];
}

/** Where a revocation was made, as its revoker recorded it ([ms, counter]); records without one come first. */
function revocationTime(rev: Revocation): Hlc {
  return revocationPosition(rev)?.at ?? [-1, -1];
}

/** Does `a` revoke from an earlier point than `b` (then CID order)? */
function revokesEarlier(a: Revocation, b: Revocation): boolean {
  const c = compareHlc(revocationTime(a), revocationTime(b));
  return c < 0 || (c === 0 && a.invocation.cid.toString() < b.invocation.cid.toString());
}

export interface SpaceAuthorityOptions {
  space: string;
  verifier?: Verifier;
  clock?: Clock;
}

export class SpaceAuthority {
  readonly space: string;
  readonly validator: Validator;
  readonly #delegations = new Map<string, Delegation>();
  readonly #revoked = new Map<string, Revocation>();
  /** Revocation records whose path is not known yet, by CID string. */
  readonly #pendingRevocations = new Map<string, Uint8Array>();

  constructor(options: SpaceAuthorityOptions) {
    this.space = options.space;
    const delegations = this.#delegations;
    const revoked = this.#revoked;
    this.validator = new Validator({
      proofs: { get: (cid: CID) => delegations.get(cidKey(cid))?.bytes },
      revocations: { isRevoked: (cid: CID) => revoked.has(cidKey(cid)) },
      verifier: options.verifier,
      clock: options.clock,
      cache: new VerificationCache(4096),
    });
  }

  get delegations(): Iterable<Delegation> {
    return this.#delegations.values();
  }

  get revocations(): Iterable<Revocation> {
    return this.#revoked.values();
  }

  delegation(cid: CID): Delegation | undefined {
    return this.#delegations.get(cidKey(cid));
  }

  hasDelegation(cid: CID): boolean {
    return this.#delegations.has(cidKey(cid));
  }

  isRevoked(cid: CID): boolean {
    return this.#revoked.has(cidKey(cid));
  }

  /** isRevoked for a precomputed cidKey. */
  isRevokedKey(key: string): boolean {
    return this.#revoked.has(key);
  }

  /** The revocation of the delegation with this cidKey, if any. */
  revocationOf(key: string): Revocation | undefined {
    return this.#revoked.get(key);
  }

  /** The delegation with this cidKey, if known. */
  delegationByKey(key: string): Delegation | undefined {
    return this.#delegations.get(key);
  }

  /**
   * Verify and keep a delegation (signature and shape; its chain is judged
   * when used). Refuses delegations about another space.
   */
  async addDelegation(bytes: Uint8Array): Promise<Delegation> {
    const d = await this.validator.verifyDelegation(bytes);
    if (d.sub !== null && d.sub !== this.space) {
      throw new UcanError("InvalidSubject", `this delegation is about ${d.sub}, not the space ${this.space}`);
    }
    this.#delegations.set(cidKey(d.cid), d);
    return d;
  }

  /** Keep a delegation this node just issued, without re-verifying its signature. */
  trustDelegation(d: Delegation): void {
    this.validator.trust(d);
    this.#delegations.set(cidKey(d.cid), d);
  }

  /**
   * Validate and apply a revocation record. Resolves true when it newly
   * revokes something (or revokes it from an earlier point), false when
   * already known or still waiting for the delegations on its path; rejects
   * when it is invalid. Of several revocations of one delegation, the
   * earliest stands on every node, whatever order they arrived in.
   */
  async addRevocation(bytes: Uint8Array): Promise<boolean> {
    let rev: Revocation;
    try {
      rev = await validateRevocation(this.validator, bytes);
    } catch (e) {
      if (e instanceof UcanError && e.name === "UnavailableProof") {
        this.#pendingRevocations.set(cidKey(cidOf(bytes)), bytes);
        return false;
      }
      throw e;
    }
    if (rev.invocation.sub !== this.space) {
      throw new UcanError("InvalidRevocation", "this revocation is for another space");
    }
    const key = cidKey(rev.revoked);
    const known = this.#revoked.get(key);
    if (known && !revokesEarlier(rev, known)) return false;
    this.#revoked.set(key, rev);
    return true;
  }

  /** Retry revocations that were waiting for delegations. Resolves true if any now applies. */
  async retryPendingRevocations(): Promise<boolean> {
    let changed = false;
    for (const [key, bytes] of [...this.#pendingRevocations]) {
      this.#pendingRevocations.delete(key);
      try {
        if (await this.addRevocation(bytes)) changed = true;
      } catch {
        // invalid now that its path is known: dropped (the caller logged the first attempt)
      }
    }
    return changed;
  }

  /** A root-first chain of known delegations ending at `target` (what a revocation of it names). */
  pathTo(target: Delegation): Delegation[] | undefined {
    if (target.iss === this.space) return [target];
    const all = [...this.#delegations.values()];
    const walk = (d: Delegation, seen: Set<string>): Delegation[] | undefined => {
      if (d.iss === this.space) return [d];
      for (const parent of all) {
        if (parent.aud !== d.iss || seen.has(parent.cid.toString())) continue;
        const path = walk(parent, new Set([...seen, parent.cid.toString()]));
        if (path) return [...path, d];
      }
      return undefined;
    };
    return walk(target, new Set());
  }

  /** Delegations usable at `now` (seconds): not revoked, within their time bounds. */
  #live(now: number): Delegation[] {
    return [...this.#delegations.values()].filter((d) =>
      !this.#revoked.has(cidKey(d.cid)) && (d.exp === null || d.exp >= now) && (d.nbf === undefined || d.nbf <= now)
    );
  }

  /**
   * Root-first chains from the space root to `did` whose commands cover
   * `command`, shortest first. Empty for the root itself (it needs none).
   */
  chainsFor(did: string, command: string, now: number): Delegation[][] {
    if (did === this.space) return [[]];
    const live = this.#live(now);
    const byIssuer = new Map<string, Delegation[]>();
    for (const d of live) {
      const list = byIssuer.get(d.iss) ?? [];
      list.push(d);
      byIssuer.set(d.iss, list);
    }
    const out: Delegation[][] = [];
    const walk = (issuer: string, path: Delegation[], seen: Set<string>) => {
      if (path.length >= 8) return;
      for (const d of byIssuer.get(issuer) ?? []) {
        if (seen.has(d.aud)) continue;
        if (path.length === 0 ? d.sub !== this.space : d.sub !== null && d.sub !== this.space) continue;
        if (path.length > 0 && !proves(path[path.length - 1].cmd, d.cmd)) continue;
        const next = [...path, d];
        if (d.aud === did && proves(d.cmd, command)) out.push(next);
        walk(d.aud, next, new Set([...seen, d.aud]));
      }
    };
    walk(this.space, [], new Set([this.space]));
    return out.sort((a, b) => a.length - b.length);
  }

  /**
   * Everyone the root's authority reaches at `now`, with the commands that
   * actually reach them: a delegation counts only if its issuer holds a
   * command that proves it, through an unbroken chain from the root.
   */
  members(now: number): Member[] {
    const held = new Map<string, Set<string>>([[this.space, new Set(["/"])]]);
    const used = new Set<Delegation>();
    const live = this.#live(now);
    for (let changed = true; changed;) {
      changed = false;
      for (const d of live) {
        if (used.has(d)) continue;
        if (d.iss === this.space ? d.sub !== this.space : d.sub !== null && d.sub !== this.space) continue;
        const issuerHolds = held.get(d.iss);
        if (!issuerHolds || ![...issuerHolds].some((h) => proves(h, d.cmd))) continue;
        used.add(d);
        const set = held.get(d.aud) ?? new Set<string>();
        set.add(d.cmd);
        held.set(d.aud, set);
        changed = true;
      }
    }
    const byDid = new Map<string, Member>();
    for (const d of used) {
      if (d.aud === this.space) continue;
      const m = byDid.get(d.aud) ??
        { did: d.aud, kind: "member", by: d.iss, commands: [], expires: d.exp, delegations: [] };
      const meta = d.meta ?? {};
      if (typeof meta.name === "string") m.name = neutralized(meta.name); // names come from the network
      if (typeof meta.kind === "string") m.kind = meta.kind;
      if (!m.commands.includes(d.cmd)) m.commands.push(d.cmd);
      m.delegations.push(d.cid.toString());
      m.expires = m.expires === null || d.exp === null ? null : Math.max(m.expires, d.exp);
      byDid.set(d.aud, m);
    }
    return [...byDid.values()].sort((a, b) => (a.did < b.did ? -1 : 1));
  }
}
