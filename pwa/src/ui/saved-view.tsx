/**
 * What a visit shows first when this browser has a saved view of the space
 * it opens (node/snapshot.ts): every task as this device verified it last
 * time, with how many signatures the node behind it has checked so far. It
 * is interactive: the list pages, and a task can be created, claimed or
 * commented on. What the user does here is not signed yet: it waits
 * (node/intents.ts, durable, shown as waiting) until the node has caught up,
 * and is then judged against the verified state, as if the user had waited.
 * Nothing here is presented as verified now.
 */
import { useEffect, useState } from "preact/hooks";
import type { VerifyCounts } from "#protocol/identity";
import { describe, type Intent, type IntentQueue } from "../node/intents.ts";
import type { Snapshot } from "../node/snapshot.ts";
import type { TaskRow } from "../model/task-row.ts";
import { ago } from "./format.ts";
import { PAGE } from "./views/task-list.tsx";
import { TaskTable } from "./views/task-table.tsx";
import { labelList, TitleAndLabels } from "./views/title-and-labels.tsx";

/** How often the count of signatures checked is redrawn while the node opens. */
const PROGRESS_MS = 100;

export function SavedView(props: { snapshot: Snapshot; progress: VerifyCounts; queue: IntentQueue }) {
  const { snapshot: s, queue } = props;
  const [{ remembered, checked }, setCounts] = useState({ ...props.progress });
  const [waiting, setWaiting] = useState(queue.items);
  const [shown, setShown] = useState(PAGE);
  const [commenting, setCommenting] = useState<TaskRow | undefined>();
  const [problem, setProblem] = useState("");
  useEffect(() => {
    const timer = setInterval(() => setCounts({ ...props.progress }), PROGRESS_MS);
    return () => clearInterval(timer);
  }, [props.progress]);
  useEffect(() => queue.subscribe(() => setWaiting(queue.items)), [queue]);
  const add = async (i: Omit<Intent, "id" | "space">) => {
    try {
      await queue.add({ ...i, space: s.space });
      setProblem("");
      return true;
    } catch (e) {
      setProblem((e as Error).message);
      return false;
    }
  };
  const claiming = new Set(waiting.filter((i) => i.kind === "claim").map((i) => i.task));
  const done = Math.min(remembered + checked, s.ops);
  return (
    <>
      <header class="top">
        <span class="brand">{s.name || "Weft"}</span>
      </header>
      <nav class="views" aria-label="Views" />
      <main id="main" class="saved-view" aria-busy="true" data-saved-view={s.space}>
        <section aria-labelledby="saved-tasks-title" class="stack">
          <p class="checking" role="status">
            <progress aria-label="Checking the space's signed operations" value={done} max={s.ops} /> Checking {s.ops}
            {" "}
            signed operations: <span data-progress={done}>{done}</span> read ({remembered}{" "}
            verified by this browser before, {checked} now). Below is this space as this browser verified it{" "}
            {ago(s.savedAt)}
            {"; "}it may have changed since. What you do now waits for the check, and is judged against the verified
            space.
          </p>
          <div class="row spread">
            <h1 id="saved-tasks-title">Tasks</h1>
            <p class="count">{s.total} tasks, being checked</p>
          </div>
          {s.may.create && <NewIntent add={add} />}
          {problem && <p class="error" role="alert">{problem}</p>}
          {waiting.length > 0 && (
            <section aria-labelledby="waiting-title" class="waiting">
              <h2 id="waiting-title">Waiting for the check ({waiting.length})</h2>
              <ul>
                {waiting.map((i) => <li key={i.id} data-intent={i.kind}>{describe(i)}</li>)}
              </ul>
            </section>
          )}
          {commenting && (
            <CommentIntent
              row={commenting}
              add={(body) => add({ kind: "comment", task: commenting.id, title: commenting.title, body })}
              close={() => setCommenting(undefined)}
            />
          )}
          <div class="unchecked">
            <TaskTable
              space={s.space}
              rows={s.rows.slice(0, shown)}
              actions={(r) => (
                <>
                  {s.may.claim && r.status === "open" && (
                    <button
                      type="button"
                      disabled={claiming.has(r.id)}
                      onClick={() => add({ kind: "claim", task: r.id, title: r.title })}
                    >
                      Claim
                    </button>
                  )}
                  {s.may.comment && <button type="button" onClick={() => setCommenting(r)}>Comment</button>}
                </>
              )}
            />
          </div>
          {s.rows.length > shown && (
            <button type="button" onClick={() => setShown(shown + 2 * PAGE)}>
              Show more ({s.rows.length - shown} left)
            </button>
          )}
        </section>
      </main>
    </>
  );
}

function NewIntent(props: { add(i: Omit<Intent, "id" | "space">): Promise<boolean> }) {
  const [title, setTitle] = useState("");
  const [labels, setLabels] = useState("");
  return (
    <form
      class="new-task"
      aria-label="New task"
      onSubmit={async (e) => {
        e.preventDefault();
        const list = labelList(labels);
        if (await props.add({ kind: "create", title: title.trim(), ...(list.length ? { labels: list } : {}) })) {
          setTitle("");
          setLabels("");
        }
      }}
    >
      <TitleAndLabels title={title} labels={labels} onTitle={setTitle} onLabels={setLabels} />
      <button type="submit" disabled={!title.trim()}>Add</button>
    </form>
  );
}

function CommentIntent(props: { row: TaskRow; add(body: string): Promise<boolean>; close(): void }) {
  const [body, setBody] = useState("");
  return (
    <form
      class="stack"
      aria-label={`Comment on ${props.row.title}`}
      onSubmit={async (e) => {
        e.preventDefault();
        if (await props.add(body.trim())) props.close();
      }}
    >
      <label for="saved-comment">Comment on “{props.row.title}”</label>
      <textarea
        id="saved-comment"
        rows={3}
        maxLength={16_000}
        value={body}
        onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
      />
      <div class="row">
        <button type="submit" disabled={!body.trim()}>Comment</button>
        <button type="button" onClick={props.close}>Cancel</button>
      </div>
    </form>
  );
}
