/**
 * Keeping the saved view (node/snapshot.ts) current: the first page of the
 * open space's task list, from the node's verified state only, saved a
 * couple of seconds after the space changes (at most that often during a
 * burst of sync), and when the tab is hidden, with the signatures this
 * device has verified (node/verified-store.ts). And, once the node has
 * verified everything, what the saved view showed that did not survive the
 * check, so the app can say so.
 */
import type { Space } from "#protocol/space";
import type { Notice } from "./context.ts";
import type { BrowserNode } from "../node/browser-node.ts";
import { saveSnapshot, type Snapshot } from "../node/snapshot.ts";
import { saveVerified } from "../node/verified-store.ts";
import { namesOf } from "./format.ts";
import { PAGE, taskRow } from "./views/task-list.tsx";
import { filterTasks, readFilters } from "./views/task-filters.tsx";

const SAVE_AFTER_MS = 2000;

/** The saved view of `space` as the node has verified it now. */
function viewOf(bn: BrowserNode, space: Space): Snapshot {
  const names = namesOf(space);
  const tasks = filterTasks(space, readFilters(new URLSearchParams()), bn.did);
  return {
    did: bn.did,
    space: space.id,
    name: space.name,
    savedAt: Date.now(),
    total: space.log.reducer.tasks.size,
    ops: space.log.size,
    rows: tasks.slice(0, PAGE).map((t) => taskRow(t, names, bn.did)),
  };
}

/** Save the open space's view after it changes; returns a function that stops. */
export function keepSnapshot(bn: BrowserNode): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watched: { space: Space; off: () => void } | undefined;
  let verifiedSaved = -1;
  const save = () => {
    timer = undefined;
    if (bn.verified.version !== verifiedSaved) {
      verifiedSaved = bn.verified.version;
      void saveVerified(bn.db, bn.node.signer, bn.verified).catch((e) =>
        console.warn(`Weft: the verified signatures were not saved: ${(e as Error).message}`)
      );
    }
    const space = bn.node.space(bn.currentSpace ?? "");
    // Not saving costs the next visit its quick start, nothing else: say so in the console.
    if (space) {
      void saveSnapshot(bn.db, bn.node.signer, viewOf(bn, space)).catch((e) =>
        console.warn(`Weft: the saved view was not saved: ${(e as Error).message}`)
      );
    }
  };
  const soon = () => timer ??= setTimeout(save, SAVE_AFTER_MS);
  const watch = () => {
    const space = bn.node.space(bn.currentSpace ?? "");
    if (space === watched?.space) return;
    watched?.off();
    watched = space ? { space, off: space.subscribe(soon) } : undefined;
    soon();
  };
  const hidden = () => {
    if (document.visibilityState !== "hidden" || timer === undefined) return;
    clearTimeout(timer);
    save();
  };
  const off = bn.subscribe(watch);
  addEventListener("visibilitychange", hidden);
  watch();
  return () => {
    off();
    watched?.off();
    clearTimeout(timer);
    removeEventListener("visibilitychange", hidden);
  };
}

/**
 * What the saved view showed that the verified node does not have: tasks
 * it lacks, and tasks the saved view showed changed later than anything
 * the node verified for them (the change did not verify). Both are gone
 * from the view now; the notice names them. Undefined when all of it
 * checked out.
 */
export function notConfirmed(snapshot: Snapshot, bn: BrowserNode): Notice | undefined {
  const space = bn.node.space(snapshot.space);
  const gone = snapshot.rows.filter((r) => {
    const task = space?.log.reducer.tasks.get(r.id);
    return !task || task.updatedAt[0] < r.updatedAt;
  });
  if (gone.length === 0) return undefined;
  const titles = gone.slice(0, 3).map((r) => `“${r.title}”`).join(", ") + (gone.length > 3 ? "…" : "");
  return {
    text: space
      ? `${gone.length} task(s) shown from your last visit did not verify and were removed or changed back: ${titles}`
      : `The space shown from your last visit (${snapshot.name}) could not be opened and verified, so it is not shown`,
    error: true,
  };
}
