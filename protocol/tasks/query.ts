/**
 * Reading tasks: filters over the reduced state, with the lease judged
 * against the reader's clock (a claimed task whose lease has lapsed is
 * effectively open again and may be claimed by anyone).
 */
import type { Task, TaskStatus } from "./state.ts";
import type { TaskReducer } from "./reducer.ts";

export interface TaskFilter {
  status?: TaskStatus | TaskStatus[];
  /** Tasks carrying every one of these labels. */
  labels?: string[];
  assignee?: string;
  /** Only tasks that can be claimed now: open (or lease lapsed) with all dependencies done. */
  runnable?: boolean;
  /** Case-insensitive substring of the title. */
  text?: string;
  limit?: number;
}

export interface TaskView extends Task {
  /** The status as of the reader's clock: a lapsed lease reads as "open". */
  effectiveStatus: TaskStatus;
  runnable: boolean;
}

export function effectiveStatus(task: Task, nowMs: number): TaskStatus {
  if ((task.status === "claimed" || task.status === "running") && task.lease && task.lease.expires < nowMs) {
    return "open";
  }
  return task.status;
}

export function view(reducer: TaskReducer, task: Task, nowMs: number): TaskView {
  const status = effectiveStatus(task, nowMs);
  return { ...task, effectiveStatus: status, runnable: status === "open" && reducer.depsDone(task) };
}

export function queryTasks(reducer: TaskReducer, filter: TaskFilter, nowMs: number): TaskView[] {
  const statuses = filter.status === undefined ? undefined : new Set([filter.status].flat());
  const text = filter.text?.toLowerCase();
  const hits: Task[] = [];
  for (const task of reducer.tasks.values()) {
    const status = effectiveStatus(task, nowMs);
    if (statuses && !statuses.has(status)) continue;
    if (filter.labels && !filter.labels.every((l) => task.labels.includes(l))) continue;
    if (filter.assignee !== undefined && task.assignee !== filter.assignee) continue;
    if (filter.runnable !== undefined && (status === "open" && reducer.depsDone(task)) !== filter.runnable) continue;
    if (text !== undefined && !task.title.toLowerCase().includes(text)) continue;
    hits.push(task);
  }
  hits.sort((a, b) => a.createdAt[0] - b.createdAt[0] || a.createdAt[1] - b.createdAt[1] || (a.id < b.id ? -1 : 1));
  // Views (copies with the reader's status) only for what is returned.
  return (filter.limit !== undefined ? hits.slice(0, filter.limit) : hits).map((t) => view(reducer, t, nowMs));
}
