/** Small pieces every task view shows the same way: status, labels, a task's short id. */
import type { TaskStatus } from "#protocol/tasks";
import { shortId } from "../model/task-ref.ts";

export function Status(props: { status: TaskStatus }) {
  return <span class={`status s-${props.status}`}>{props.status}</span>;
}

export function Labels(props: { labels: readonly string[] }) {
  if (props.labels.length === 0) return null;
  return (
    <span class="labels">
      {props.labels.map((l) => <span key={l} class="tag">{l}</span>)}
    </span>
  );
}

export function TaskId(props: { id: string }) {
  return <code class="tid" title={props.id}>{shortId(props.id)}</code>;
}
