/**
 * How many times a job's claim ended without a result: the holder crashed,
 * was killed (perhaps by the job), or stopped answering, so its lease
 * lapsed. Read from the task's history of applied operations alone, so
 * every node counts the same: a claim that lands while an earlier claim is
 * still outstanding (neither released nor answered with a result) landed
 * because that earlier lease had lapsed; and the current lease counts once
 * it has lapsed too. A clean stop releases its lease and is not counted.
 * The scheduler quarantines a job whose count reaches its `maxCrashes`.
 */
import type { Task } from "../tasks/state.ts";

/** Operations that end a claim properly. */
const ENDS_CLAIM = new Set(["release", "result", "close", "cancel"]);

export function lapsedClaims(task: Task, nowMs: number): number {
  let outstanding = false;
  let lapsed = 0;
  for (const entry of task.history) {
    if (entry.kind === "claim") {
      if (outstanding) lapsed++;
      outstanding = true;
    } else if (ENDS_CLAIM.has(entry.kind)) {
      outstanding = false;
    }
  }
  if (outstanding && task.lease !== undefined && task.lease.expires < nowMs) lapsed++;
  return lapsed;
}

/** What a quarantined job's comment says, for people and for anyone reading the task. */
export function quarantineNote(lapsed: number): string {
  return `quarantined: ${lapsed} claims of this job ended without a result (the node running it crashed, was ` +
    "killed or stopped answering), so no node runs it again; submit it anew to retry";
}
