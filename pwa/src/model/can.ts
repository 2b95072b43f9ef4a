/**
 * What this node may do in a space, as its verifier would judge it: a
 * command is allowed when some live, unrevoked chain of delegations from
 * the space root reaches this node's DID and covers it. The UI offers
 * only what passes; the verifier still has the last word on each write.
 */
import type { Space } from "../../../protocol/space/space.ts";

export function can(space: Space, did: string, command: string, nowMs = Date.now()): boolean {
  return space.authority.chainsFor(did, command, Math.floor(nowMs / 1000)).length > 0;
}

/** A short reason to show on a disabled control. */
export function missing(command: string): string {
  return `your delegation in this space does not include ${command}`;
}
