/**
 * A task's labels and dependencies (what it waits for, and what waits for
 * it), with controls to change them when this device may.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import { actions } from "../../model/actions.ts";
import { can } from "../../model/can.ts";
import { taskHref } from "../../model/route.ts";
import { resolveTask } from "../../model/task-ref.ts";
import { useAction, useApp } from "../context.ts";
import { Status, TaskId } from "../task-bits.tsx";

function TaskLink(props: { space: Space; id: string }) {
  const t = props.space.task(props.id);
  return (
    <>
      <TaskId id={props.id} /> <a href={taskHref(props.space.id, props.id)}>{t?.title ?? "(unknown task)"}</a>{" "}
      {t && <Status status={t.effectiveStatus} />}
    </>
  );
}

/** A one-field form (the field labelled for screen readers); cleared once `submit` reports success. */
function InlineAdd(props: {
  id: string;
  label: string;
  placeholder: string;
  button: string;
  busy: boolean;
  submit(text: string): Promise<boolean>;
}) {
  const [text, setText] = useState("");
  return (
    <form
      class="row"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await props.submit(text)) setText("");
      }}
    >
      <label for={props.id} class="sr-only">{props.label}</label>
      <input
        id={props.id}
        placeholder={props.placeholder}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={props.busy || !text.trim()}>{props.button}</button>
    </form>
  );
}

export function TaskLabels(props: { space: Space; task: TaskView }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const editable = can(props.space, bn.did, Commands.taskLabel);
  return (
    <div class="stack">
      <ul class="plain row wrap" aria-label="Labels">
        {props.task.labels.length === 0 && <li class="empty">No labels.</li>}
        {props.task.labels.map((l) => (
          <li key={l} class="tag">
            {l}
            {editable && (
              <button
                type="button"
                class="icon"
                aria-label={`Remove label ${l}`}
                disabled={busy}
                onClick={() => void run(() => actions.label(props.space, props.task, [], [l]))}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {editable && (
        <InlineAdd
          id="add-label"
          label="Add labels"
          placeholder="add labels"
          button="Add"
          busy={busy}
          submit={(text) => {
            const add = text.split(/[\s,]+/).map((l) => l.replace(/^#/, "")).filter(Boolean);
            return run(() => actions.label(props.space, props.task, add, []));
          }}
        />
      )}
    </div>
  );
}

export function TaskDeps(props: { space: Space; task: TaskView }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const { space, task } = props;
  const editable = can(space, bn.did, Commands.taskDependency);
  const dependents = [...space.log.reducer.dependentsOf(task.id)];
  return (
    <div class="stack">
      <h3>Waits for</h3>
      {task.deps.length === 0 ? <p class="empty">Nothing.</p> : (
        <ul class="plain">
          {task.deps.map((d) => (
            <li key={d}>
              <TaskLink space={space} id={d} />
              {editable && (
                <button
                  type="button"
                  class="icon"
                  aria-label={`Stop waiting for ${d.slice(0, 6)}`}
                  disabled={busy}
                  onClick={() => void run(() => actions.undepend(space, task, d))}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <InlineAdd
          id="add-dep"
          label="Task id to wait for"
          placeholder="task id (or its start)"
          button="Wait for it"
          busy={busy}
          submit={(ref) => run(() => actions.depend(space, task, resolveTask(space, ref)))}
        />
      )}
      <h3>Waited for by</h3>
      {dependents.length === 0 ? <p class="empty">No task.</p> : (
        <ul class="plain">
          {dependents.map((d) => (
            <li key={d}>
              <TaskLink space={space} id={d} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
