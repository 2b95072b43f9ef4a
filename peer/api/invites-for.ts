/**
 * The invites a peer holds for a principal, as it can prove them: every
 * space this node is in where the space's recorded delegations give that
 * DID sync, encoded as an invite naming this peer's sync endpoint. The
 * delegations are in the space documents, so nothing extra is stored and an
 * invite made with `weft space invite --to` waits here (across restarts)
 * until its audience collects it; a revoked or expired one is not offered.
 */
import type { Space } from "#protocol/space";
import { encodeInvite } from "#protocol/space";
import { Commands } from "#protocol/ucan";

export interface WaitingInvite {
  space: string;
  name: string;
  invite: string;
}

export function invitesFor(spaces: readonly Space[], did: string, syncUrl: string): WaitingInvite[] {
  const now = Math.floor(Date.now() / 1000);
  const out: WaitingInvite[] = [];
  for (const space of spaces) {
    if (space.id === did) continue;
    const [chain] = space.authority.chainsFor(did, Commands.spaceSync, now);
    if (!chain || chain.length === 0) continue;
    const invite = encodeInvite({
      space: space.id,
      url: space.url,
      tokens: chain.map((d) => d.bytes),
      peers: [syncUrl],
    });
    out.push({ space: space.id, name: space.name, invite });
  }
  return out;
}
