/**
 * Filing a task from the list: a title, optional labels and description.
 * Hidden behind an explanation when this device's delegation does not
 * include /weft/task/create.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { missing } from "../why-not.ts";
import { shortId } from "../../model/task-ref.ts";
import { useAction, useApp } from "../context.ts";
import { labelList, TitleAndLabels } from "./title-and-labels.tsx";

export function NewTask(props: { space: Space }) {
  const { bn, notify } = useApp();
  const [title, setTitle] = useState("");
  const [labels, setLabels] = useState("");
  const [body, setBody] = useState("");
  const { busy, run } = useAction();
  if (!can(props.space, bn.did, Commands.taskCreate)) {
    return <p class="hint">You cannot file tasks here: {missing(props.space, bn.did, Commands.taskCreate)}.</p>;
  }
  return (
    <form
      class="new-task"
      aria-label="New task"
      onSubmit={async (e) => {
        e.preventDefault();
        const list = labelList(labels);
        const ok = await run(async () => {
          const t = await props.space.createTask({
            title: title.trim(),
            ...(list.length ? { labels: list } : {}),
            ...(body.trim() ? { body: body.trim() } : {}),
          });
          notify({ text: `Created ${shortId(t.id)} “${t.title}”` });
        });
        if (ok) {
          setTitle("");
          setLabels("");
          setBody("");
          document.getElementById("new-task-title")?.focus();
        }
      }}
    >
      <TitleAndLabels title={title} labels={labels} onTitle={setTitle} onLabels={setLabels} />
      <button type="submit" disabled={busy || !title.trim()}>Add</button>
      <details>
        <summary>Description</summary>
        <label for="new-task-body" class="sr-only">Description</label>
        <textarea
          id="new-task-body"
          rows={4}
          maxLength={32000}
          value={body}
          onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
        />
      </details>
    </form>
  );
}
