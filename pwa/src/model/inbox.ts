/**
 * What in a space concerns this device's person, newest first: they were
 * removed from it, a claim of theirs was lost when concurrent claims met, a
 * task they filed waits for their approval, a run they started failed.
 * Computed from the replicated state and the claims this browser signed.
 */
import type { Space } from "#protocol/space";
import { effectiveStatus } from "#protocol/tasks";
import { myClaims } from "./my-claims.ts";

export type InboxKind = "removed" | "lost-claim" | "approval" | "run-failed";

export interface InboxItem {
  kind: InboxKind;
  text: string;
  /** Unix ms. */
  at: number;
  task?: string;
  /** For a lost claim: its operation, to dismiss it. */
  op?: string;
}

/** `removed`: why this device no longer syncs the space, in words (ui/why-not.ts), if it was removed. */
export function inboxOf(space: Space, did: string, removed: string | undefined, now = Date.now()): InboxItem[] {
  const items: InboxItem[] = [];
  if (removed) items.push({ kind: "removed", text: removed, at: now });
  for (const c of myClaims()) {
    if (c.space !== space.id) continue;
    const outcome = space.log.outcome(c.op);
    const task = space.task(c.task);
    if (!outcome || outcome.applied || !task) continue;
    items.push({
      kind: "lost-claim",
      text: `Your claim on “${task.title}” was lost when it met another: ${outcome.reason}`,
      at: c.at,
      task: c.task,
      op: c.op,
    });
  }
  for (const task of space.log.reducer.tasks.values()) {
    if (task.creator !== did) continue;
    const status = effectiveStatus(task, now);
    const last = task.results.at(-1);
    if (status === "review") {
      items.push({
        kind: "approval",
        text: `“${task.title}” waits for your approval`,
        at: last?.at[0] ?? task.updatedAt[0],
        task: task.id,
      });
    } else if (task.run && (status === "failed" || (status === "done" && last?.outcome === "failure"))) {
      items.push({
        kind: "run-failed",
        text: `Your run “${task.title}” failed${last?.summary ? `: ${last.summary}` : ""}`,
        at: last?.at[0] ?? task.updatedAt[0],
        task: task.id,
      });
    }
  }
  return items.sort((a, b) => b.at - a.at);
}
