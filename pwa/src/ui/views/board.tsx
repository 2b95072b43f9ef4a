/**
 * The board: one column per state (open → claimed → running → review →
 * done | failed | cancelled), judged by this node's clock, so a lapsed
 * lease shows as open again. Long columns show their newest cards and link
 * to the full list.
 */
import { useMemo } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskStatus, TaskView } from "#protocol/tasks";
import { spaceHref, taskHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { namesOf, who } from "../format.ts";
import { Labels, TaskId } from "../task-bits.tsx";
import { STATUSES } from "../../model/task-row.ts";

const PER_COLUMN = 50;

export function Board(props: { space: Space }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  const columns = useMemo(() => {
    const by = new Map<TaskStatus, TaskView[]>(STATUSES.map((s) => [s, []]));
    for (const t of props.space.tasks()) by.get(t.effectiveStatus)!.push(t);
    for (const list of by.values()) list.reverse();
    return by;
  }, [props.space, version]);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  return (
    <section aria-labelledby="board-title" class="stack">
      <h1 id="board-title">Board</h1>
      <div class="board">
        {STATUSES.map((status) => {
          const list = columns.get(status)!;
          return (
            <section key={status} class={`column c-${status}`} aria-labelledby={`col-${status}`}>
              <h2 id={`col-${status}`}>
                {status} <span class="count">{list.length}</span>
              </h2>
              <ul>
                {list.slice(0, PER_COLUMN).map((t) => (
                  <li key={t.id} class="card">
                    <a href={taskHref(props.space.id, t.id)}>{t.title}</a>
                    <div class="meta">
                      <TaskId id={t.id} />
                      {t.assignee && <span>{who(t.assignee, names, bn.did)}</span>}
                      <Labels labels={t.labels} />
                    </div>
                  </li>
                ))}
              </ul>
              {list.length > PER_COLUMN && (
                <a href={spaceHref(props.space.id, "tasks", { status })}>all {list.length} {status}</a>
              )}
            </section>
          );
        })}
      </div>
    </section>
  );
}
