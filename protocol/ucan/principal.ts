/**
 * Whom an invocation counts for. A principal may let another DID act for it
 * (a bridge paired with a person): it marks its delegation to that DID with
 * a pairing proof in the delegation's signed meta. An invocation whose last
 * proof — the delegation to its invoker — carries that mark counts for the
 * delegation's issuer; any other counts for its invoker. Every node derives
 * it from the verified chain alone, never from anything the invoker wrote
 * in its arguments, so a signer can only be credited to someone who
 * delegated to it for that purpose.
 */
import type { Delegation } from "./delegation.ts";

/** The meta key a pairing proof travels under in a delegation to a bridge (bridge/pairing-proof.ts). */
export const PAIRING_META = "pairing";

/** Did `delegation`'s issuer let its audience act for it (a pairing proof in its meta)? */
export function actsForIssuer(delegation: Pick<Delegation, "meta">): boolean {
  return typeof delegation.meta?.[PAIRING_META] === "string";
}

/**
 * The principal an invocation by `invoker` under `chain` (root first, as
 * validated: the last proof's audience is the invoker) counts for.
 */
export function principalOf(invoker: string, chain: readonly Pick<Delegation, "iss" | "aud" | "meta">[]): string {
  const last = chain[chain.length - 1];
  return last !== undefined && last.aud === invoker && actsForIssuer(last) ? last.iss : invoker;
}
