/**
 * The delegations of a space as a table: who gave what to whom, its policy
 * and expiry, whether it is revoked (and by whom), and whether this node may revoke it —
 * only an issuer on the delegation's chain from the root can.
 */
import type { Space } from "#protocol/space";
import { Commands, type Delegation } from "#protocol/ucan";
import { can } from "./can.ts";

export interface DelegationRow {
  d: Delegation;
  cid: string;
  state: "active" | "revoked" | "expired" | "not yet valid";
  revocable: boolean;
  /** Who signed its revocation, if revoked. */
  revokedBy?: string;
}

/** Issuers on any chain from the space root down to `d`. */
function issuersAbove(space: Space, d: Delegation, all: readonly Delegation[], seen = new Set<string>()): Set<string> {
  const out = new Set([d.iss]);
  if (d.iss === space.id) return out;
  for (const parent of all) {
    const key = parent.cid.toString();
    if (parent.aud !== d.iss || seen.has(key)) continue;
    seen.add(key);
    for (const i of issuersAbove(space, parent, all, seen)) out.add(i);
  }
  return out;
}

export function delegationRows(space: Space, me: string, nowMs = Date.now()): DelegationRow[] {
  const now = Math.floor(nowMs / 1000);
  const all = [...space.authority.delegations];
  const revokers = new Map([...space.authority.revocations].map((r) => [r.revoked.toString(), r.revoker]));
  return all.map((d) => {
    const revoked = space.authority.isRevoked(d.cid);
    const state = revoked
      ? "revoked"
      : d.exp !== null && d.exp < now
      ? "expired"
      : d.nbf !== undefined && d.nbf > now
      ? "not yet valid"
      : "active";
    return {
      d,
      cid: d.cid.toString(),
      state,
      revocable: !revoked && issuersAbove(space, d, all).has(me),
      ...(revoked ? { revokedBy: revokers.get(d.cid.toString()) } : {}),
    } satisfies DelegationRow;
  }).sort((a, b) => (a.d.aud < b.d.aud ? -1 : a.d.aud > b.d.aud ? 1 : a.d.cmd < b.d.cmd ? -1 : 1));
}

/** The space commands this node could delegate (it holds a chain covering each). */
export function delegable(space: Space, me: string): string[] {
  const all = [...new Set(Object.values(Commands))].filter((c) => !c.startsWith("/weft/node"));
  return all.filter((c) => can(space, me, c)).sort();
}
