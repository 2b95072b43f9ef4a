/**
 * Editing a task's title and description (a signed /weft/task/update/edit
 * operation). If someone else changes them while the form is open, the form
 * says so, and saving over their change is a deliberate second choice.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { useAction } from "../context.ts";

export function TaskEdit(props: { space: Space; task: TaskView; done(): void }) {
  const [title, setTitle] = useState(props.task.title);
  const [body, setBody] = useState(props.task.body);
  // What the form started from: a change to it meanwhile is someone else's edit.
  const [base] = useState({ title: props.task.title, body: props.task.body });
  const { busy, run } = useAction();
  const theirs = [
    props.task.title !== base.title && `the title to “${props.task.title}”`,
    props.task.body !== base.body && "the description",
  ].filter(Boolean);
  return (
    <form
      class="stack"
      aria-label="Edit task"
      onSubmit={async (e) => {
        e.preventDefault();
        const changed = {
          // Only what was changed here: a field left alone keeps whatever someone else set meanwhile.
          ...(title.trim() !== base.title ? { title: title.trim() } : {}),
          ...(body !== base.body ? { body } : {}),
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
      {theirs.length > 0 && (
        <p class="removed" role="alert" data-edited-meanwhile>
          While you were editing, someone changed {theirs.join(" and ")}. Saving replaces their change with yours.
        </p>
      )}
      <div class="row">
        <button type="submit" disabled={busy || !title.trim()}>
          {theirs.length > 0 ? "Save mine over theirs" : "Save"}
        </button>
        <button type="button" onClick={props.done}>Cancel</button>
      </div>
    </form>
  );
}
