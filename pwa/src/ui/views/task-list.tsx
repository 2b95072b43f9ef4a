/**
 * The task list: filters, a form to file a task, and the matching tasks,
 * newest first, rendered a page at a time so a space of 10,000 tasks stays
 * quick.
 */
import { useMemo, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { useApp, useSpace } from "../context.ts";
import { namesOf, who } from "../format.ts";
import { NewTask } from "./new-task.tsx";
import { filterTasks, readFilters, TaskFilters } from "./task-filters.tsx";
import { TaskTable } from "./task-table.tsx";
import type { TaskRow } from "../../model/task-row.ts";

/** Rows rendered at first; "Show more" adds two pages. */
export const PAGE = 100;

/** A task as a row of the table. */
export function taskRow(t: TaskView, names: Map<string, string>, me: string): TaskRow {
  return {
    id: t.id,
    title: t.title,
    status: t.effectiveStatus,
    labels: t.labels,
    assignee: t.assignee ? who(t.assignee, names, me) : "",
    updatedAt: t.updatedAt[0],
  };
}

export function TaskList(props: { space: Space; query: URLSearchParams }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  const [shown, setShown] = useState(PAGE);
  const filters = readFilters(props.query);
  const key = props.query.toString();
  const tasks = useMemo(() => filterTasks(props.space, filters, bn.did), [props.space, version, key]);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  return (
    <section aria-labelledby="tasks-title" class="stack">
      <div class="row spread">
        <h1 id="tasks-title">Tasks</h1>
        <p class="count" aria-live="polite">{tasks.length} of {props.space.log.reducer.tasks.size}</p>
      </div>
      <NewTask space={props.space} />
      <TaskFilters space={props.space} filters={filters} />
      {tasks.length === 0
        ? (
          <p class="empty">
            {props.space.log.reducer.tasks.size === 0 ? "No tasks in this space yet." : "No task matches."}
          </p>
        )
        : <TaskTable space={props.space.id} rows={tasks.slice(0, shown).map((t) => taskRow(t, names, bn.did))} />}
      {tasks.length > shown && (
        <button type="button" onClick={() => setShown(shown + 2 * PAGE)}>
          Show more ({tasks.length - shown} left)
        </button>
      )}
    </section>
  );
}
