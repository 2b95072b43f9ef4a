/**
 * Task ids are 16 characters; people type and read a short prefix. A
 * prefix resolves when exactly one task starts with it.
 */
import { WeftError } from "#protocol";
import type { Space } from "#protocol/space";

export const SHORT = 6;

export function shortId(id: string): string {
  return id.slice(0, SHORT);
}

export function resolveTask(space: Space, ref: string): string {
  const prefix = ref.trim().toLowerCase().replace(/^#/, "");
  if (prefix === "") throw new WeftError("InvalidInput", "input/task", "name a task (its id or the start of it)");
  const tasks = space.log.reducer.tasks;
  if (tasks.has(prefix)) return prefix;
  const hits: string[] = [];
  for (const id of tasks.keys()) if (id.startsWith(prefix)) hits.push(id);
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) throw new WeftError("NotFound", "not-found", `no task starts with ${prefix}`);
  throw new WeftError(
    "Ambiguous",
    "input/task",
    `${hits.length} tasks start with ${prefix} (${hits.slice(0, 4).map(shortId).join(", ")}…): type more of the id`,
  );
}
