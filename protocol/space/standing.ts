/**
 * Where one principal stands in a space: still a member, cut off by a
 * revocation (whose, and when it was signed), lapsed, or never in it.
 *
 * Sessions use it to tell a member it was revoked (with the records, which
 * it checks against its own copy of the space), and every shell uses it to
 * say so plainly instead of showing a space as "synced" that no longer is.
 */
import { cidKey } from "../codec/cid.ts";
import type { Delegation } from "../ucan/delegation.ts";
import type { SpaceAuthority } from "./authority.ts";

export type Standing =
  | { state: "member" }
  | {
    state: "revoked";
    /** Who signed the (latest) revocation that cut this principal off. */
    by: string;
    /** When it was signed (Unix ms), if the record says. */
    at?: number;
    /** The revoked delegation's CID. */
    delegation: string;
    /** Every revocation record that cuts it off, for a node to check itself. */
    records: Uint8Array[];
  }
  | { state: "expired"; at: number }
  | { state: "none" };

/** Every delegation on some path from the space root to `did`, whatever its time bounds or revocations. */
function delegationsReaching(authority: SpaceAuthority, did: string): Delegation[] {
  const all = [...authority.delegations];
  const found = new Set<Delegation>();
  const holders = new Set([did]);
  for (let grew = true; grew;) {
    grew = false;
    for (const d of all) {
      if (found.has(d) || !holders.has(d.aud) || d.aud === authority.space) continue;
      found.add(d);
      holders.add(d.iss);
      grew = true;
    }
  }
  return [...found];
}

/** The standing of `did` for `command` at `nowMs` (Unix ms). */
export function standingOf(authority: SpaceAuthority, did: string, command: string, nowMs: number): Standing {
  const nowSec = Math.floor(nowMs / 1000);
  if (authority.chainsFor(did, command, nowSec).length > 0) return { state: "member" };
  const reaching = delegationsReaching(authority, did);
  if (reaching.length === 0) return { state: "none" };
  const keys = new Set(reaching.map((d) => cidKey(d.cid)));
  const cutting = [...authority.revocations].filter((r) => keys.has(cidKey(r.revoked)));
  if (cutting.length > 0) {
    const latest = cutting.reduce((a, b) => ((b.invocation.iat ?? 0) > (a.invocation.iat ?? 0) ? b : a));
    return {
      state: "revoked",
      by: latest.revoker,
      ...(latest.invocation.iat !== undefined ? { at: latest.invocation.iat * 1000 } : {}),
      delegation: latest.revoked.toString(),
      records: cutting.map((r) => r.invocation.bytes),
    };
  }
  const lapsed = reaching.filter((d) => d.exp !== null && d.exp < nowSec).map((d) => d.exp as number);
  if (lapsed.length > 0) return { state: "expired", at: Math.max(...lapsed) * 1000 };
  return { state: "none" };
}

/** When `chain` (a delegation chain) stops being valid by time alone: its earliest expiry, Unix seconds, or null. */
export function chainExpiry(chain: readonly Delegation[]): number | null {
  let earliest: number | null = null;
  for (const d of chain) if (d.exp !== null && (earliest === null || d.exp < earliest)) earliest = d.exp;
  return earliest;
}
