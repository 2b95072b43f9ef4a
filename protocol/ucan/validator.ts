/**
 * Invocation validation over a UCAN 1.0 proof chain.
 *
 * For an invocation with `prf = [d0 … dn]` (root first) it checks, and
 * fails with the spec's error names:
 *  - the invocation's signature (InvalidSignature) and expiry (Expired);
 *  - with no proofs, that the invoker is the subject (InvalidClaim);
 *  - every proof can be found (UnavailableProof) and is signed by its
 *    issuer (InvalidSignature);
 *  - every proof is within its time bounds (Expired, TooEarly);
 *  - d0 is issued by its subject and is not a powerline (InvalidClaim);
 *  - each audience is the next issuer, dn's audience the invoker (InvalidAudience);
 *  - every subject is the invocation's (a powerline inherits the previous one) (InvalidSubject);
 *  - each command proves the next, dn's proves the invocation's (InvalidClaim);
 *  - no proof is revoked (Revoked);
 *  - the args satisfy every proof's policy (MatchError);
 *  - no proof lifts or raises a budget an earlier one set (InvalidClaim; see budget.ts).
 * Decoded, signature-checked tokens are cached by CID.
 */
import type { CID } from "multiformats/cid";
import { defaultVerifier, type Verifier } from "../identity/ed25519.ts";
import { decodeEnvelope, isInvocationTag, MAX_TOKEN_BYTES, verifyEnvelope } from "./envelope.ts";
import { cidOf } from "../codec/cid.ts";
import { UcanError } from "./errors.ts";
import { type Delegation, delegationFromEnvelope } from "./delegation.ts";
import { type Invocation, invocationFromEnvelope } from "./invocation.ts";
import { proves } from "./command.ts";
import { budgetOf, narrowsBudget } from "./budget.ts";
import { matchPolicy } from "./policy/match.ts";
import { type ProofStore, type RevocationStore, VerificationCache } from "./stores.ts";

/** Unix time in seconds; injected so tests and replays control the clock. */
export type Clock = () => number;

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

export interface ValidatorOptions {
  proofs: ProofStore;
  revocations?: RevocationStore;
  verifier?: Verifier;
  clock?: Clock;
  cache?: VerificationCache;
}

export interface ValidateOptions {
  /** Require the invocation to be addressed to this DID (its `aud`, or `sub` if absent). */
  audience?: string;
  /** Extra proofs for this call only, e.g. those sent along with a request. */
  proofs?: ProofStore;
  /**
   * Judge time bounds at this Unix time (seconds) instead of the clock:
   * operation logs judge each operation at its own timestamp so that every
   * node, whenever it reduces the log, reaches the same verdict.
   */
  now?: number;
  /**
   * Leave revocation to the caller: operation logs judge it causally (what
   * the revoker had seen stands), not as of now.
   */
  ignoreRevocations?: boolean;
}

export interface ValidInvocation {
  readonly invocation: Invocation;
  /** The proof chain, root first. */
  readonly proofs: readonly Delegation[];
}

export class Validator {
  readonly proofs: ProofStore;
  readonly revocations?: RevocationStore;
  readonly cache: VerificationCache;
  readonly clock: Clock;
  #verifier?: Verifier;

  constructor(options: ValidatorOptions) {
    this.proofs = options.proofs;
    this.revocations = options.revocations;
    this.cache = options.cache ?? new VerificationCache();
    this.clock = options.clock ?? systemClock;
    this.#verifier = options.verifier;
  }

  async #getVerifier(): Promise<Verifier> {
    this.#verifier ??= await defaultVerifier();
    return this.#verifier;
  }

  /** Decode and check the signature of a token, once per CID. */
  async #verified<T extends Delegation | Invocation>(
    bytes: Uint8Array,
    parse: typeof delegationFromEnvelope | typeof invocationFromEnvelope,
    link: number,
  ): Promise<T> {
    // A token seen before is known by the hash of its bytes (its CID), which
    // this node computes itself: found, it needs no decoding or checking again.
    let cid: CID | undefined;
    if (bytes instanceof Uint8Array && bytes.length <= MAX_TOKEN_BYTES) {
      cid = cidOf(bytes);
      const cached = this.cache.get(cid);
      if (cached !== undefined) {
        if ((parse === invocationFromEnvelope) !== isInvocationTag(cached.envelope.tag)) {
          throw new UcanError("MalformedToken", `expected a ${link === -1 ? "invocation" : "delegation"}`, { link });
        }
        return cached as T;
      }
    }
    const envelope = decodeEnvelope(bytes, cid);
    let token: T;
    try {
      token = parse(envelope) as T;
    } catch (e) {
      if (e instanceof UcanError) {
        throw new UcanError(e.name, e.message, { cid: envelope.cid.toString(), link, cause: e });
      }
      throw e;
    }
    return await this.#signed(token, link);
  }

  /** Check the signature of a token decoded and shape-checked already, and remember it. */
  async #signed<T extends Delegation | Invocation>(token: T, link: number): Promise<T> {
    await verifyEnvelope(token.envelope, token.iss, await this.#getVerifier(), link);
    this.cache.set(token);
    return token;
  }

  /** A delegation by bytes, shape- and signature-checked (not time or chain). */
  verifyDelegation(bytes: Uint8Array, link = 0): Promise<Delegation> {
    return this.#verified<Delegation>(bytes, delegationFromEnvelope, link);
  }

  /** An invocation, shape- and signature-checked (not its chain). */
  verifyInvocationSignature(input: Uint8Array | Invocation): Promise<Invocation> {
    if (!(input instanceof Uint8Array)) {
      const cached = this.cache.get(input.cid);
      if (cached !== undefined && cached.envelope.tag === input.envelope.tag) {
        return Promise.resolve(cached as Invocation);
      }
      return this.#signed(input, -1);
    }
    return this.#verified<Invocation>(input, invocationFromEnvelope, -1);
  }

  /** Record a token this node signed itself as verified, sparing a signature check. */
  trust(token: Delegation | Invocation): void {
    this.cache.set(token);
  }

  /** Find and verify the delegation `cid` (at position `link` of a chain). */
  async resolveProof(cid: CID, link: number, extra?: ProofStore): Promise<Delegation> {
    const cached = this.cache.get(cid);
    if (cached !== undefined && "pol" in cached) return cached;
    const bytes = (await extra?.get(cid)) ?? (await this.proofs.get(cid));
    if (bytes === undefined) {
      throw new UcanError("UnavailableProof", "this delegation is not known here; send it with the invocation", {
        cid: cid.toString(),
        link,
      });
    }
    const d = await this.verifyDelegation(bytes, link);
    if (!d.cid.equals(cid)) throw new UcanError("UnavailableProof", "the proof store returned other bytes", { link });
    return d;
  }

  #checkTime(token: { nbf?: number; exp: number | null; cid: CID }, link: number, now: number): void {
    if (token.exp !== null && now > token.exp) {
      throw new UcanError("Expired", `expired at ${new Date(token.exp * 1000).toISOString()}`, {
        cid: token.cid.toString(),
        link,
      });
    }
    if (token.nbf !== undefined && now < token.nbf) {
      throw new UcanError("TooEarly", `not valid before ${new Date(token.nbf * 1000).toISOString()}`, {
        cid: token.cid.toString(),
        link,
      });
    }
  }

  /** Validate an invocation (bytes or already decoded) and its whole proof chain. */
  async validate(input: Uint8Array | Invocation, options: ValidateOptions = {}): Promise<ValidInvocation> {
    const inv = await this.verifyInvocationSignature(input);
    const now = options.now ?? this.clock();
    this.#checkTime(inv, -1, now);
    if (options.audience !== undefined && (inv.aud ?? inv.sub) !== options.audience) {
      throw new UcanError("InvalidAudience", `addressed to ${inv.aud ?? inv.sub}, not to ${options.audience}`, {
        link: -1,
      });
    }
    if (inv.prf.length === 0) {
      if (inv.iss !== inv.sub) {
        throw new UcanError("InvalidClaim", `${inv.iss} invokes on ${inv.sub} with no proof of authority`, {
          link: -1,
        });
      }
      return { invocation: inv, proofs: [] };
    }
    const chain: Delegation[] = [];
    for (let i = 0; i < inv.prf.length; i++) chain.push(await this.resolveProof(inv.prf[i], i, options.proofs));

    // Checks run in passes over the whole chain, so that a chain broken in
    // several ways reports what the spec's fixtures expect: time, then
    // linkage, then subjects, commands, revocation and policies.
    const at = (i: number) => ({ cid: chain[i].cid.toString(), link: i });
    chain.forEach((d, i) => this.#checkTime(d, i, now));

    const root = chain[0];
    if (root.sub === null) throw new UcanError("InvalidClaim", "the root delegation cannot be a powerline", at(0));
    if (root.iss !== root.sub) {
      throw new UcanError(
        "InvalidClaim",
        `the root delegation is issued by ${root.iss}, not its subject ${root.sub}`,
        at(0),
      );
    }
    for (let i = 1; i < chain.length; i++) {
      if (chain[i - 1].aud !== chain[i].iss) {
        throw new UcanError(
          "InvalidAudience",
          `issued by ${chain[i].iss} but the previous proof is to ${chain[i - 1].aud}`,
          at(i),
        );
      }
    }
    const last = chain.length - 1;
    if (chain[last].aud !== inv.iss) {
      throw new UcanError(
        "InvalidAudience",
        `the last proof is to ${chain[last].aud}, but ${inv.iss} invokes`,
        at(last),
      );
    }

    let subject = root.sub;
    for (let i = 0; i < chain.length; i++) {
      subject = chain[i].sub ?? subject; // a powerline inherits the previous subject
      if (subject !== inv.sub) {
        throw new UcanError("InvalidSubject", `is about ${subject}, the invocation about ${inv.sub}`, at(i));
      }
    }
    for (let i = 0; i < chain.length; i++) {
      const next = i < last ? chain[i + 1].cmd : inv.cmd;
      if (!proves(chain[i].cmd, next)) {
        throw new UcanError("InvalidClaim", `delegates ${chain[i].cmd}, which does not cover ${next}`, at(i));
      }
    }
    if (this.revocations && !options.ignoreRevocations) {
      for (let i = 0; i < chain.length; i++) {
        if (await this.revocations.isRevoked(chain[i].cid)) {
          throw new UcanError("Revoked", "this delegation has been revoked", at(i));
        }
      }
    }
    for (let i = 1; i < chain.length; i++) {
      const wider = narrowsBudget(budgetOf(chain[i - 1].pol), budgetOf(chain[i].pol));
      if (wider) throw new UcanError("InvalidClaim", `the budget is wider than its parent's: ${wider}`, at(i));
    }
    for (let i = 0; i < chain.length; i++) {
      const match = matchPolicy(chain[i].pol, inv.args);
      if (!match.ok) {
        const statement = JSON.stringify(chain[i].pol.source[match.failed])?.slice(0, 200);
        throw new UcanError("MatchError", `the arguments fail policy statement ${statement}`, at(i));
      }
    }
    return { invocation: inv, proofs: chain };
  }
}
