/**
 * Why an action is switched off, in words: this node was removed from the
 * space (by whom, when), its delegation lapsed, or it never held the
 * command.
 */
import type { Space } from "#protocol/space";
import { standing } from "../model/can.ts";
import { dateTime, namesOf, who } from "./format.ts";

/** Why this node no longer syncs the space, in a sentence; undefined while it is a member. */
export function removedReason(space: Space, did: string, nowMs = Date.now()): string | undefined {
  const st = standing(space, did, nowMs);
  if (st.state === "revoked") {
    const when = st.at !== undefined ? ` on ${dateTime(st.at)}` : "";
    return `You were removed from this space by ${who(st.by, namesOf(space), did)}${when}`;
  }
  if (st.state === "expired") return `Your delegation in this space expired on ${dateTime(st.at)}`;
  return undefined;
}

/** A short reason to show on a disabled control. */
export function missing(space: Space, did: string, command: string): string {
  const removed = removedReason(space, did);
  if (removed) return removed.charAt(0).toLowerCase() + removed.slice(1);
  return `your delegation in this space does not include ${command}`;
}
