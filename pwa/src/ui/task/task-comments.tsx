/** A task's comments, oldest first, and the form to add one (if /weft/task/comment is delegated to this device). */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import { actions } from "../../model/actions.ts";
import { can } from "../../model/can.ts";
import { missing } from "../why-not.ts";
import { useAction, useApp } from "../context.ts";
import { dateTime, who } from "../format.ts";

export function TaskComments(props: { space: Space; task: TaskView; names: Map<string, string> }) {
  const { bn } = useApp();
  const [body, setBody] = useState("");
  const { busy, run } = useAction();
  const allowed = can(props.space, bn.did, Commands.taskComment);
  return (
    <>
      {props.task.comments.length === 0 ? <p class="empty">No comments.</p> : (
        <ol class="comments">
          {props.task.comments.map((c) => (
            <li key={c.id}>
              <p class="meta">
                <strong>{who(c.author, props.names, bn.did)}</strong> · {dateTime(c.at[0])}
              </p>
              <p class="body">{c.body}</p>
            </li>
          ))}
        </ol>
      )}
      {allowed
        ? (
          <form
            class="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              if (await run(() => actions.comment(props.space, props.task, body.trim()), "Comment added")) setBody("");
            }}
          >
            <label for="comment-body">Add a comment</label>
            <textarea
              id="comment-body"
              rows={3}
              maxLength={16000}
              required
              value={body}
              onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
            />
            <div>
              <button type="submit" disabled={busy || !body.trim()}>Comment</button>
            </div>
          </form>
        )
        : <p class="hint">You cannot comment here: {missing(props.space, bn.did, Commands.taskComment)}.</p>}
    </>
  );
}
