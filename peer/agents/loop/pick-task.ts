/**
 * Which task an agent's pass works on: one it still holds a live lease on
 * (this peer stopped mid-task), else the oldest open task carrying one of
 * its labels in a repository with a default branch, that it has not given
 * back since anyone else last acted on it (else a failing task loops forever).
 */
import type { Space } from "#protocol/space";
import { REPO_FAMILY, type RepoReducer } from "#protocol/repo";
import { effectiveStatus, type Task } from "#protocol/tasks";
import type { AgentRecord } from "../peer-agents.ts";

/** The task a pass works on, its repository, the commit it starts from and the branch it targets. */
export interface Picked {
  task: Task;
  repo: string;
  base: string;
  target: string;
  /** The agent already holds its lease (this peer stopped mid-task): taken up again, not claimed. */
  held: boolean;
}

/** Did `agent` give `task` back, with no one else acting on it since (a comment, a label, a reopen)? */
function gaveUp(task: Task, agent: string): boolean {
  for (let i = task.history.length - 1; i >= 0; i--) {
    const h = task.history[i];
    if (h.author !== agent) return false;
    if (h.kind === "release") return true;
  }
  return false;
}

/** The label that names a task's repository; without one, the space's only repository. */
export const REPO_LABEL = "repo:";

/**
 * The task to work on, in a repository this peer holds, and its base: one
 * the agent still holds a live lease on (it was working on it when this
 * peer stopped), else the oldest open task carrying one of its labels
 * that it has not given back since anyone else last touched it.
 */
export function pickTask(space: Space, record: AgentRecord): Picked | undefined {
  const repos = space.log.state<RepoReducer>(REPO_FAMILY).repos;
  const now = Date.now();
  const tasks = [...space.log.reducer.tasks.values()].filter((t) =>
    !t.run && t.labels.some((l) => record.labels.includes(l))
  );
  const held = tasks.filter((t) =>
    t.lease?.holder === record.did && (t.status === "claimed" || t.status === "running") && t.lease.expires > now
  );
  const open = tasks
    .filter((t) => effectiveStatus(t, now) === "open" && !gaveUp(t, record.did))
    .sort((a, b) => a.createdAt[0] - b.createdAt[0] || a.createdAt[1] - b.createdAt[1]);
  for (const task of [...held, ...open]) {
    const named = task.labels.find((l) => l.startsWith(REPO_LABEL))?.slice(REPO_LABEL.length);
    const repo = named !== undefined ? repos.get(named) : repos.size === 1 ? [...repos.values()][0] : undefined;
    const target = repo && `refs/heads/${repo.defaultBranch}`;
    const base = target && repo.refs.get(target)?.commit;
    if (repo && target && base) return { task, repo: repo.name, base, target, held: held.includes(task) };
  }
  return undefined;
}
