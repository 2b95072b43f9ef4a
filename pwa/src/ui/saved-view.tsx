/**
 * What a visit shows first when this browser has a saved view of the space
 * it opens (node/snapshot.ts): the task list as this device verified it
 * last time, marked as being checked, read-only, until the node has read
 * and verified every operation and the app replaces it, with how many
 * signatures have been checked so far. Nothing here is presented as
 * verified now.
 */
import { useEffect, useState } from "preact/hooks";
import type { VerifyCounts } from "#protocol/identity";
import type { Snapshot } from "../node/snapshot.ts";
import { ago } from "./format.ts";
import { TaskTable } from "./views/task-table.tsx";

/** How often the count of signatures checked is redrawn while the node opens. */
const PROGRESS_MS = 100;

export function SavedView(props: { snapshot: Snapshot; progress: VerifyCounts }) {
  const s = props.snapshot;
  const [{ remembered, checked }, setCounts] = useState({ ...props.progress });
  useEffect(() => {
    const timer = setInterval(() => setCounts({ ...props.progress }), PROGRESS_MS);
    return () => clearInterval(timer);
  }, [props.progress]);
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
            {"; "}it may have changed since, and nothing can be changed here until the check is done.
          </p>
          <div class="row spread">
            <h1 id="saved-tasks-title">Tasks</h1>
            <p class="count">{s.rows.length} of {s.total}, being checked</p>
          </div>
          <div class="unchecked">
            <TaskTable space={s.space} rows={s.rows} />
          </div>
        </section>
      </main>
    </>
  );
}
