/**
 * One task: its state and actions, description, labels and dependencies,
 * lease, comments, runs and artifacts, and the signed history behind it.
 * The id in the URL may be a prefix; it resolves if it is unambiguous.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { spaceHref } from "../../model/route.ts";
import { resolveTask } from "../../model/task-ref.ts";
import { rememberTask } from "../../model/search.ts";
import { useApp, useSpace } from "../context.ts";
import { dateTime, namesOf, who } from "../format.ts";
import { Status, TaskId } from "../task-bits.tsx";
import { TaskActions } from "./task-actions.tsx";
import { TaskComments } from "./task-comments.tsx";
import { TaskEdit } from "./task-edit.tsx";
import { TaskHistory } from "./task-history.tsx";
import { TaskLease } from "./task-lease.tsx";
import { TaskDeps, TaskLabels } from "./task-links.tsx";
import { TaskRuns } from "./task-runs.tsx";
import { TitleConflict } from "./title-conflict.tsx";

export function TaskDetail(props: { space: Space; id: string }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  const [editing, setEditing] = useState(false);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  let id: string | undefined;
  let problem = "";
  try {
    id = resolveTask(props.space, props.id);
  } catch (e) {
    problem = (e as Error).message;
  }
  const task = id ? props.space.task(id) : undefined;
  useEffect(() => {
    if (id) rememberTask(id);
  }, [id]);
  if (!task) {
    return (
      <section class="stack">
        <h1>Task not found</h1>
        <p>{problem || `No task ${props.id} in this space.`}</p>
        <a href={spaceHref(props.space.id, "tasks")}>All tasks</a>
      </section>
    );
  }
  const req = Object.entries(task.requirements);
  return (
    <article class="task stack" aria-labelledby="task-title">
      <p class="crumbs">
        <a href={spaceHref(props.space.id, "tasks")}>Tasks</a> / <TaskId id={task.id} />
      </p>
      {editing ? <TaskEdit space={props.space} task={task} done={() => setEditing(false)} /> : (
        <div class="row spread">
          <h1 id="task-title">{task.title}</h1>
          {can(props.space, bn.did, Commands.taskEdit) && (
            <button type="button" onClick={() => setEditing(true)}>Edit</button>
          )}
        </div>
      )}
      <TitleConflict space={props.space} task={task} names={names} />
      <div class="row wrap">
        <Status status={task.effectiveStatus} />
        {task.effectiveStatus !== task.status && <span class="hint">(recorded as {task.status}; its lease lapsed)
        </span>}
        <span>
          filed by {who(task.creator, names, bn.did)} · {dateTime(task.createdAt[0])}
        </span>
      </div>
      <TaskActions space={props.space} task={task} />
      {!editing && task.body && <div class="body">{task.body}</div>}
      <div class="cols">
        <section aria-labelledby="lease-title">
          <h2 id="lease-title">Claim and lease</h2>
          <TaskLease task={task} names={names} me={bn.did} />
          {req.length > 0 && (
            <>
              <h3>Requirements</h3>
              <dl class="facts">
                {req.map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`}>{String(v)}</dd>])}
              </dl>
            </>
          )}
          {task.review && <p class="hint">Results go to review before the task is done.</p>}
        </section>
        <section aria-labelledby="labels-title">
          <h2 id="labels-title">Labels</h2>
          <TaskLabels space={props.space} task={task} />
        </section>
        <section aria-labelledby="deps-title">
          <h2 id="deps-title">Dependencies</h2>
          <TaskDeps space={props.space} task={task} />
        </section>
      </div>
      <section aria-labelledby="comments-title">
        <h2 id="comments-title">Comments</h2>
        <TaskComments space={props.space} task={task} names={names} />
      </section>
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Runs and artifacts</h2>
        <TaskRuns space={props.space} task={task} names={names} me={bn.did} />
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <TaskHistory node={bn.node} space={props.space} task={task} names={names} />
      </section>
    </article>
  );
}
