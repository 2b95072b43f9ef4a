/**
 * The table of tasks, newest first, one page at a time: shared by the task
 * list (rows from the verified node) and the saved view shown while the
 * node is still checking (rows from the snapshot), so both look the same.
 * `actions`: a last column of controls per row (the saved view's).
 */
import type { ComponentChildren } from "preact";
import type { TaskRow } from "../../model/task-row.ts";
import { taskHref } from "../../model/route.ts";
import { ago } from "../format.ts";
import { Labels, Status, TaskId } from "../task-bits.tsx";

export function TaskTable(
  props: { space: string; rows: readonly TaskRow[]; actions?: (row: TaskRow) => ComponentChildren },
) {
  const now = Date.now();
  return (
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
            {props.actions && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((t) => (
            <tr key={t.id} data-task={t.id}>
              <td>
                <TaskId id={t.id} />
              </td>
              <td>
                <a href={taskHref(props.space, t.id)}>{t.title}</a>
              </td>
              <td>
                <Status status={t.status} />
              </td>
              <td class="wide">
                <Labels labels={t.labels} />
              </td>
              <td class="wide">{t.assignee}</td>
              <td class="wide">{ago(t.updatedAt, now)}</td>
              {props.actions && <td class="row-actions">{props.actions(t)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
