/** Editing a task's title and description (a signed /weft/task/update/edit operation). */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { useAction } from "../context.ts";

export function TaskEdit(props: { space: Space; task: TaskView; done(): void }) {
  const [title, setTitle] = useState(props.task.title);
  const [body, setBody] = useState(props.task.body);
  const { busy, run } = useAction();
  return (
    <form
      class="stack"
      aria-label="Edit task"
      onSubmit={async (e) => {
        e.preventDefault();
        const changed = {
          ...(title.trim() !== props.task.title ? { title: title.trim() } : {}),
          ...(body !== props.task.body ? { body } : {}),
        };
        if (Object.keys(changed).length === 0) return props.done();
        if (await run(() => props.space.act("edit", { task: props.task.id, ...changed }), "Saved")) props.done();
      }}
    >
      <label for="edit-title">Title</label>
      <input
        id="edit-title"
        required
        maxLength={200}
        value={title}
        onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
      />
      <label for="edit-body">Description</label>
      <textarea
        id="edit-body"
        rows={6}
        maxLength={32000}
        value={body}
        onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
      />
      <div class="row">
        <button type="submit" disabled={busy || !title.trim()}>Save</button>
        <button type="button" onClick={props.done}>Cancel</button>
      </div>
    </form>
  );
}
