/**
 * Runs as the mesh sees them ("pods"): every task in a space that asks for
 * compute, with where it runs or ran, its state, when it started and ended,
 * and what it asked for. Read from the replicated task state, so any node
 * lists the same pods; the node running one adds what only it knows.
 */
import type { Space } from "../space/space.ts";
import { effectiveStatus } from "../tasks/query.ts";
import type { Task } from "../tasks/state.ts";
import { runSpecCid, type RunStatus } from "../runner/runner.ts";
import { needOf } from "./placement.ts";
import type { LocalRun } from "./scheduler.ts";

export type PodState = "queued" | "claimed" | "running" | "succeeded" | "failed" | "review" | "cancelled";

export interface Pod {
  space: string;
  task: string;
  title: string;
  runner: string;
  program: string;
  /** CID of the run spec. */
  spec: string;
  state: PodState;
  /** The node holding or last holding it. */
  node?: string;
  fence: number;
  /** Unix ms. */
  submittedAt: number;
  startedAt?: number;
  endedAt?: number;
  resources: { cpu: number; memoryMb: number; gpu: number; tags: readonly string[]; wallMs: number };
  exitCode?: number;
  summary?: string;
  manifest?: string;
  /** Present on the node that runs it: log lines buffered, and why it stopped. */
  local?: { state: string; logLines: number; status?: RunStatus; reason?: string; accepted?: boolean };
}

function podState(task: Task, now: number): PodState {
  const status = effectiveStatus(task, now);
  if (status === "open") return "queued";
  if (status === "done") return task.results.at(-1)?.outcome === "failure" ? "failed" : "succeeded";
  return status;
}

/** The last time an operation of one of `kinds` applied to the task. */
function lastAt(task: Task, kinds: readonly string[]): number | undefined {
  for (let i = task.history.length - 1; i >= 0; i--) {
    if (kinds.includes(task.history[i].kind)) return task.history[i].at[0];
  }
  return undefined;
}

export function podOf(
  space: string,
  task: Task & { run: NonNullable<Task["run"]> },
  now: number,
  local?: LocalRun,
): Pod {
  const need = needOf(task);
  const last = task.results.at(-1);
  const state = podState(task, now);
  const startedAt = lastAt(task, ["start"]);
  const endedAt = state === "succeeded" || state === "failed" || state === "cancelled" || state === "review"
    ? lastAt(task, ["result", "cancel", "close"])
    : undefined;
  const node = task.lease?.holder ?? last?.by ?? task.assignee;
  return {
    space,
    task: task.id,
    title: task.title,
    runner: task.run.runner,
    program: task.run.program,
    spec: runSpecCid(task.run).toString(),
    state,
    ...(node !== undefined ? { node } : {}),
    fence: task.fence,
    submittedAt: task.createdAt[0],
    ...(startedAt !== undefined && state !== "queued" ? { startedAt } : {}),
    ...(endedAt !== undefined ? { endedAt } : {}),
    resources: {
      cpu: need.cpu,
      memoryMb: need.memoryMb,
      gpu: need.gpu,
      tags: need.tags,
      wallMs: task.run.limits.wallMs,
    },
    ...(last?.exitCode !== undefined ? { exitCode: last.exitCode } : {}),
    ...(last?.summary !== undefined ? { summary: last.summary } : {}),
    ...(last?.manifest !== undefined ? { manifest: last.manifest } : {}),
    ...(local
      ? {
        local: {
          state: local.state,
          logLines: local.log.lines().length + local.log.dropped,
          ...(local.result ? { status: local.result.status } : {}),
          ...(local.reason !== undefined ? { reason: local.reason } : {}),
          ...(local.accepted !== undefined ? { accepted: local.accepted } : {}),
        },
      }
      : {}),
  };
}

export interface PodFilter {
  state?: PodState;
  node?: string;
  limit?: number;
}

/** The space's pods, newest first. */
export function listPods(
  space: Space,
  now: number,
  localRun: (task: string) => LocalRun | undefined,
  filter: PodFilter = {},
): Pod[] {
  const out: Pod[] = [];
  for (const task of space.log.reducer.tasks.values()) {
    if (!task.run) continue;
    const pod = podOf(space.id, task as Task & { run: NonNullable<Task["run"]> }, now, localRun(task.id));
    if (filter.state !== undefined && pod.state !== filter.state) continue;
    if (filter.node !== undefined && pod.node !== filter.node) continue;
    out.push(pod);
  }
  out.sort((a, b) => b.submittedAt - a.submittedAt || (a.task < b.task ? -1 : 1));
  return filter.limit !== undefined ? out.slice(0, filter.limit) : out;
}
