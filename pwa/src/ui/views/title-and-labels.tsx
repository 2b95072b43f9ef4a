/**
 * The title and labels fields every "new task" form shares (the verified
 * list's and the saved view's), and how labels are read from what was typed.
 */

/** Labels typed as "a, b #c": split on spaces and commas, a leading # dropped. */
export function labelList(typed: string): string[] {
  return typed.split(/[\s,]+/).map((l) => l.replace(/^#/, "")).filter(Boolean);
}

export function TitleAndLabels(
  props: { title: string; labels: string; onTitle(value: string): void; onLabels(value: string): void },
) {
  return (
    <>
      <label for="new-task-title" class="sr-only">New task title</label>
      <input
        id="new-task-title"
        placeholder="Add a task…"
        required
        maxLength={200}
        value={props.title}
        onInput={(e) => props.onTitle((e.target as HTMLInputElement).value)}
      />
      <label for="new-task-labels" class="sr-only">Labels</label>
      <input
        id="new-task-labels"
        class="labels-input"
        placeholder="labels"
        value={props.labels}
        onInput={(e) => props.onLabels((e.target as HTMLInputElement).value)}
      />
    </>
  );
}
