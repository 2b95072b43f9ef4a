/**
 * What a caller may have this node sign. The node signs delegations and
 * invites with its own key, on its own chain; without these checks
 * it would act with whatever the node holds, not what the caller holds. A
 * grant is bounded by the caller's proof chain (the one its bearer was
 * validated with): its command must be one the chain proves, it carries the
 * chain's policies, and it expires no later than the chain does.
 */
import { type Delegation, type Ipld, proves } from "#protocol/ucan";
import { HttpError } from "./errors.ts";

export interface GrantBounds {
  /** The chain's policy statements and the requested ones: all must hold. */
  policy: Ipld[];
  /** The requested expiry, or the chain's if none was asked for. */
  expiration: number | null;
}

/**
 * Throw 403 `cap/not-held` unless the caller whose validated chain is
 * `chain` (root first; empty when the caller is the subject itself) holds
 * `command`.
 */
export function assertHolds(chain: readonly Delegation[], command: string): void {
  const last = chain[chain.length - 1];
  if (last && !proves(last.cmd, command)) {
    throw new HttpError(
      403,
      "cap/not-held",
      `you hold ${last.cmd} here, which does not cover ${command}: ` +
        "act only on what you hold, or ask someone who holds it",
    );
  }
}

/**
 * The expiry of something signed for a caller: what it asked for, or its
 * chain's expiry if it asked for none. Throws 403 `cap/exceeds` when it asks
 * to outlive its own chain.
 */
export function boundExpiry(chain: readonly Delegation[], asked: number | null | undefined): number | null {
  const expiries = chain.map((d) => d.exp).filter((e): e is number => e !== null);
  const limit = expiries.length > 0 ? Math.min(...expiries) : null;
  if (limit !== null && asked != null && asked > limit) {
    throw new HttpError(
      403,
      "cap/exceeds",
      `your own delegation expires at ${limit} (Unix seconds); ask for an expiration no later`,
    );
  }
  return asked ?? limit;
}

/** Check and bound a delegation a caller asks the node to sign for `command`. */
export function boundGrant(
  chain: readonly Delegation[],
  request: { command: string; policy?: Ipld[]; expiration?: number | null },
): GrantBounds {
  assertHolds(chain, request.command);
  return {
    policy: [...chain.flatMap((d) => d.pol.source), ...(request.policy ?? [])],
    expiration: boundExpiry(chain, request.expiration),
  };
}
