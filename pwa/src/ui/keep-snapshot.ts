/**
 * Keeping the saved view (node/snapshot.ts) current: every task of the open
 * space as a row, the log heads they cover and what this device may do,
 * from the node's verified state only, saved a couple of seconds after the
 * space changes (at most that often during a burst of sync), and when the
 * tab is hidden, with the signatures this device has verified
 * (node/verified-store.ts). And, once the node has caught up, the check of
 * the saved view the visit opened on against the verified state, so the app
 * can say what did not survive it.
 */
import type { Space } from "#protocol/space";
import { queryTasks } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import type { Notice } from "./context.ts";
import type { BrowserNode } from "../node/browser-node.ts";
import { mismatch, saveSnapshot, type Snapshot, SNAPSHOT_KEY } from "../node/snapshot.ts";
import { saveVerified, VERIFIED_KEY } from "../node/verified-store.ts";
import { can } from "../model/can.ts";
import type { TaskRow } from "../model/task-row.ts";
import { namesOf } from "./format.ts";
import { taskRow } from "./views/task-list.tsx";

const SAVE_AFTER_MS = 2000;
/** A saved view of a large space costs the page real time to make: at most this share of it goes to saving. */
const SAVE_SHARE = 0.1;

/** Every task of `space` as the task list shows it unfiltered (newest first), as of `nowMs`. */
function rowsOf(bn: BrowserNode, space: Space, nowMs: number): TaskRow[] {
  const names = namesOf(space);
  return queryTasks(space.log.reducer, {}, nowMs).reverse().map((t) => taskRow(t, names, bn.did));
}

/** The saved view of `space` as the node has verified it now. */
function viewOf(bn: BrowserNode, space: Space): Snapshot {
  const now = Date.now();
  const rows = rowsOf(bn, space, now);
  return {
    did: bn.did,
    space: space.id,
    name: space.name,
    savedAt: now,
    total: rows.length,
    ops: space.log.size,
    heads: space.log.heads(),
    may: {
      create: can(space, bn.did, Commands.taskCreate, now),
      claim: can(space, bn.did, Commands.taskClaim, now),
      comment: can(space, bn.did, Commands.taskComment, now),
    },
    rows,
  };
}

/** Save the open space's view after it changes; returns a function that stops. */
export function keepSnapshot(bn: BrowserNode): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watched: { space: Space; off: () => void } | undefined;
  let verifiedSaved = -1;
  /** After a save that took `t` ms, the next waits at least t / SAVE_SHARE (50,000 tasks: ~7 MB to sign and keep). */
  let wait = SAVE_AFTER_MS;
  const save = () => {
    timer = undefined;
    const started = performance.now();
    if (bn.verified.version !== verifiedSaved) {
      verifiedSaved = bn.verified.version;
      void saveVerified(bn.db, bn.node.signer, bn.verified).catch((e) =>
        console.warn(`Weft: the verified signatures were not saved: ${(e as Error).message}`)
      );
    }
    const space = bn.node.space(bn.currentSpace ?? "");
    // Not saving costs the next visit its quick start, nothing else: say so in the console.
    if (space) {
      const saving = saveSnapshot(bn.db, bn.node.signer, viewOf(bn, space)); // made and encoded here, signed after
      wait = Math.max(SAVE_AFTER_MS, (performance.now() - started) / SAVE_SHARE);
      void saving.catch((e) => console.warn(`Weft: the saved view was not saved: ${(e as Error).message}`));
    }
  };
  const soon = () => timer ??= setTimeout(save, wait);
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
 * The saved view the visit opened on, judged against the node once it has
 * caught up. One that claims what the verified space does not have
 * (node/snapshot.ts, `mismatch`) is discarded, with the record of verified
 * signatures, so the next visit verifies everything anew; otherwise, what
 * it showed that the verified node does not have — tasks it lacks, tasks
 * shown changed later than anything verified for them — is named. Either
 * way, all the app shows now is the verified state. Undefined when all of
 * it checked out.
 */
export async function judgeSnapshot(snapshot: Snapshot, bn: BrowserNode): Promise<Notice | undefined> {
  const space = bn.node.space(snapshot.space);
  if (!space) {
    return {
      text:
        `The space shown from your last visit (${snapshot.name}) could not be opened and verified, so it is not shown`,
      error: true,
    };
  }
  const wrong = mismatch(snapshot, {
    has: (cid) => space.log.has(cid),
    heads: space.log.heads(),
    rows: rowsOf(bn, space, snapshot.savedAt),
  });
  if (wrong) {
    await Promise.all([bn.db.delete("settings", SNAPSHOT_KEY), bn.db.delete("settings", VERIFIED_KEY)]);
    return {
      text: `The saved view of your last visit did not match what it claims: ${wrong}. It was discarded, ` +
        "and so was this browser's record of verified signatures: what is shown now is verified from the " +
        "operations, and the next visit verifies every signature anew.",
      error: true,
    };
  }
  const gone = snapshot.rows.filter((r) => {
    const task = space.log.reducer.tasks.get(r.id);
    return !task || task.updatedAt[0] < r.updatedAt;
  });
  if (gone.length === 0) return undefined;
  const titles = gone.slice(0, 3).map((r) => `“${r.title}”`).join(", ") + (gone.length > 3 ? "…" : "");
  return {
    text:
      `${gone.length} task(s) shown from your last visit did not verify and were removed or changed back: ${titles}`,
    error: true,
  };
}
