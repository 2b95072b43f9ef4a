/**
 * The task list: filters, a form to file a task, and the matching tasks,
 * newest first, rendered a page at a time so a space of 10,000 tasks stays
 * quick.
 */
import { useMemo, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { taskHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { ago, namesOf, who } from "../format.ts";
import { Labels, Status, TaskId } from "../task-bits.tsx";
import { NewTask } from "./new-task.tsx";
import { filterTasks, readFilters, TaskFilters } from "./task-filters.tsx";

const PAGE = 100;

export function TaskList(props: { space: Space; query: URLSearchParams }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  const [shown, setShown] = useState(PAGE);
  const filters = readFilters(props.query);
  const key = props.query.toString();
  const tasks = useMemo(() => filterTasks(props.space, filters, bn.did), [props.space, version, key]);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  const now = Date.now();
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
        : (
          <div class="table-wrap">
            <table class="tasks">
              <caption class="sr-only">Tasks, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Title</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="wide">Labels</th>
                  <th scope="col" class="wide">Assignee</th>
                  <th scope="col" class="wide">Updated</th>
                </tr>
              </thead>
              <tbody>
                {tasks.slice(0, shown).map((t) => (
                  <tr key={t.id} data-task={t.id}>
                    <td>
                      <TaskId id={t.id} />
                    </td>
                    <td>
                      <a href={taskHref(props.space.id, t.id)}>{t.title}</a>
                    </td>
                    <td>
                      <Status status={t.effectiveStatus} />
                    </td>
                    <td class="wide">
                      <Labels labels={t.labels} />
                    </td>
                    <td class="wide">{t.assignee ? who(t.assignee, names, bn.did) : ""}</td>
                    <td class="wide">{ago(t.updatedAt[0], now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {tasks.length > shown && (
        <button type="button" onClick={() => setShown(shown + 2 * PAGE)}>
          Show more ({tasks.length - shown} left)
        </button>
      )}
    </section>
  );
}
