/** A task as one row of a table: what the task list shows, and what a saved view (node/snapshot.ts) keeps. */
import type { TaskStatus } from "#protocol/tasks";

/** Every status, in the order a task goes through them. */
export const STATUSES: TaskStatus[] = ["open", "claimed", "running", "review", "done", "failed", "cancelled"];

export interface TaskRow {
  id: string;
  title: string;
  status: TaskStatus;
  labels: readonly string[];
  /** The assignee already put in words ("you", a name, a short DID), or "". */
  assignee: string;
  /** Unix ms of the last change. */
  updatedAt: number;
}
