/**
 * How the API shows spaces and standings: a space with this node's chain
 * and standing in it, the principals a space removed (who revoked them,
 * when), and who revoked a delegation. Kept apart from the routes so the
 * shapes clients read are in one place.
 */
import type { WeftNode } from "#protocol/node";
import { type Space, type Standing, standingOf } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { SPACE_COMMANDS } from "./credentials.ts";

export function spaceView(s: Space, node: WeftNode) {
  const [chain] = s.authority.chainsFor(node.did, SPACE_COMMANDS, Math.floor(Date.now() / 1000));
  return {
    id: s.id,
    name: s.name,
    url: s.url,
    tasks: s.log.reducer.tasks.size,
    members: s.members().length,
    documents: s.documentIds.length,
    /** This node's delegation chain in the space (CIDs, root first): what its API clients build on. */
    chain: (chain ?? []).map((d) => d.cid.toString()),
    /** Whether this node is still a member: revoked (by whom, when) or expired says why it no longer syncs. */
    standing: standingView(standingOf(s.authority, node.did, Commands.spaceSync, Date.now())),
  };
}

/** A standing as the API shows it (the records stay inside the node). */
export function standingView(st: Standing): Omit<Standing, "records"> {
  if (st.state !== "revoked") return st;
  const { records: _records, ...rest } = st;
  return rest;
}

/** Principals cut off from the space by a revocation or an expiry: who, and (when revoked) by whom and when. */
export function removed(s: Space): Array<{ did: string; name?: string } & Omit<Standing, "records">> {
  const now = Date.now();
  const members = new Set(s.members().map((m) => m.did));
  const out = new Map<string, { did: string; name?: string } & Omit<Standing, "records">>();
  for (const d of s.authority.delegations) {
    if (members.has(d.aud) || out.has(d.aud) || d.aud === s.id) continue;
    const st = standingOf(s.authority, d.aud, Commands.spaceSync, now);
    if (st.state !== "revoked" && st.state !== "expired") continue;
    const name = typeof d.meta?.name === "string" ? { name: d.meta.name } : {};
    out.set(d.aud, { did: d.aud, ...name, ...standingView(st) });
  }
  return [...out.values()];
}

/** Who revoked a delegation, and when (if the record says). */
export function revokedBy(s: Space, cid: string): { revokedBy?: string; revokedAt?: number } {
  const r = [...s.authority.revocations].find((x) => x.revoked.toString() === cid);
  if (!r) return {};
  return { revokedBy: r.revoker, ...(r.invocation.iat !== undefined ? { revokedAt: r.invocation.iat * 1000 } : {}) };
}
