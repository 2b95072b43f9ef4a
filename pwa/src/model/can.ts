/**
 * What this node may do in a space, as its verifier would judge it: a
 * command is allowed when some live, unrevoked chain of delegations from
 * the space root reaches this node's DID and covers it. The UI offers
 * only what passes (ui/why-not.ts says why not); the verifier still has
 * the last word on each write.
 */
import { type Space, standingOf } from "#protocol/space";
import { Commands } from "#protocol/ucan";

export function can(space: Space, did: string, command: string, nowMs = Date.now()): boolean {
  return space.authority.chainsFor(did, command, Math.floor(nowMs / 1000)).length > 0;
}

/** Where this node stands in the space: a member, or removed (by whom, when), or lapsed. */
export function standing(space: Space, did: string, nowMs = Date.now()) {
  return standingOf(space.authority, did, Commands.spaceSync, nowMs);
}
