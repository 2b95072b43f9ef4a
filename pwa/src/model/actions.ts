/**
 * Task actions as people take them, shared by the task page's buttons and
 * the command bar. Each is one operation signed by this node and checked
 * by its verifier before it is written; a refusal comes back as an error
 * saying why.
 */
import { WeftError } from "#protocol";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { rememberClaim } from "./my-claims.ts";

/** How long a lease taken by hand lasts before it must be renewed. */
export const LEASE_MS = 15 * 60_000;

function held(task: TaskView): number {
  if (!task.lease) throw new WeftError("Conflict", "task/conflict", `task ${task.id.slice(0, 6)} is not claimed`);
  return task.lease.fence;
}

export const actions = {
  claim: async (space: Space, task: TaskView) => {
    const claimed = await space.claim(task.id, LEASE_MS);
    // Remembered so that, if a concurrent claim wins when they meet, the inbox says so (model/inbox.ts).
    const mine = claimed.history.findLast((h) => h.kind === "claim");
    if (mine) rememberClaim({ space: space.id, task: task.id, op: mine.op, at: mine.at[0] });
    return claimed;
  },
  renew: (space: Space, task: TaskView) => space.renew(task.id, held(task), LEASE_MS),
  release: (space: Space, task: TaskView) => space.act("release", { task: task.id, fence: held(task) }),
  start: (space: Space, task: TaskView) => space.act("start", { task: task.id, fence: held(task) }),
  approve: (space: Space, task: TaskView, body?: string) =>
    space.act("review", { task: task.id, verdict: "approve", ...(body ? { body } : {}) }),
  reject: (space: Space, task: TaskView, body?: string) =>
    space.act("review", { task: task.id, verdict: "reject", ...(body ? { body } : {}) }),
  done: (space: Space, task: TaskView) => space.act("close", { task: task.id, outcome: "done" }),
  failed: (space: Space, task: TaskView) => space.act("close", { task: task.id, outcome: "failed" }),
  cancel: (space: Space, task: TaskView) => space.act("cancel", { task: task.id }),
  comment: (space: Space, task: TaskView, body: string) => space.act("comment", { task: task.id, body }),
  label: (space: Space, task: TaskView, add: string[], remove: string[]) =>
    space.act("label", { task: task.id, ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) }),
  depend: (space: Space, task: TaskView, on: string) => space.act("dependency", { task: task.id, add: on }),
  undepend: (space: Space, task: TaskView, on: string) => space.act("dependency", { task: task.id, remove: on }),
};
