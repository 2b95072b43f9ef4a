/**
 * The saved view: the open space as the node had verified it last — every
 * task as a row, the log heads that state covers, and what this device may
 * do there — signed with this device's key and kept in IndexedDB, so the
 * next visit opens on it at once, interactive, instead of after reading,
 * verifying and reducing every operation again. It never feeds the node:
 * the node still reads and verifies everything behind it (the catch-up),
 * what the user does meanwhile waits for the verified state to judge it
 * (intents.ts), and once the node has caught up the view is checked
 * against it (`mismatch`). A record whose signature, device, shape, bounds
 * or own counts do not check out is refused (and deleted), never rendered.
 */
import type { Signer, Verifier } from "#protocol/identity";
import { bool, check, int, InvalidInput, list, object, required, str } from "#protocol/schema";
import { STATUSES, type TaskRow } from "../model/task-row.ts";
import type { WeftDb } from "./db.ts";
import { getSigned, putSigned } from "./signed-record.ts";

/** Where it is kept (one saved view: the open space's), and what its signature says it is. */
export const SNAPSHOT_KEY = "view";
const PURPOSE = "weft/saved-view/2";
/** The saved view's first version (a page of rows, no heads), deleted on sight. */
const OLD_KEY = "snapshot";
/** Bounds on what is read back: at most this much JSON, this many rows, this many heads. */
const MAX_JSON = 64 << 20;
export const MAX_ROWS = 200_000;
const MAX_HEADS = 64;

export interface Snapshot {
  /** The device that verified and signed it. */
  did: string;
  space: string;
  name: string;
  /** Unix ms when it was saved. */
  savedAt: number;
  /** Tasks in the space then: one row each. */
  total: number;
  /** Signed operations in the space's log then. */
  ops: number;
  /** The log's heads then: the operations the state below covers, with everything before them. */
  heads: string[];
  /** What this device's delegations let it do there then (the node judges again). */
  may: { create: boolean; claim: boolean; comment: boolean };
  /** Every task, newest first. */
  rows: TaskRow[];
}

/**
 * A row as kept: [id, title, status, labels, assignee, updatedAt]. Checked
 * by hand: the schema's generic object check costs ~30× as much per row,
 * most of a 50,000-task view's opening, and the tuple halves the JSON.
 */
type KeptRow = [string, string, TaskRow["status"], string[], string, number];
const STATUS_SET = new Set<string>(STATUSES);
const isText = (v: unknown, max: number, min = 0): v is string =>
  typeof v === "string" && v.length >= min && v.length <= max;

const rows = check((v, field): TaskRow[] => {
  if (!Array.isArray(v) || v.length > MAX_ROWS) throw new InvalidInput(field, `must be at most ${MAX_ROWS} rows`);
  return v.map((r: unknown, i) => {
    const [id, title, status, labels, assignee, updatedAt] = (Array.isArray(r) ? r : []) as unknown[];
    if (
      !Array.isArray(r) || r.length !== 6 || !isText(id, 64, 1) || !isText(title, 1000) ||
      !STATUS_SET.has(status as string) ||
      !Array.isArray(labels) || labels.length > 64 || !labels.every((l) => isText(l, 200)) || !isText(assignee, 300) ||
      !Number.isSafeInteger(updatedAt) || (updatedAt as number) < 0
    ) {
      throw new InvalidInput(
        `${field}[${i}]`,
        "must be [id, title, status, labels, assignee, updatedAt] within bounds",
      );
    }
    return {
      id,
      title,
      status: status as TaskRow["status"],
      labels: labels as string[],
      assignee,
      updatedAt: updatedAt as number,
    };
  });
}, { type: "array", maxItems: MAX_ROWS });

const snapshot = object({
  did: required(str(1, 200)),
  space: required(str(1, 200)),
  name: required(str(0, 1000)),
  savedAt: required(int(0, Number.MAX_SAFE_INTEGER)),
  total: required(int(0, MAX_ROWS)),
  ops: required(int(0, Number.MAX_SAFE_INTEGER)),
  heads: required(list(str(1, 200, /^b[a-z2-7]+$/), MAX_HEADS)),
  may: required(object({ create: required(bool), claim: required(bool), comment: required(bool) })),
  rows: required(rows),
});

/** Sign and keep `view` as the saved view; durable when this resolves. */
export function saveSnapshot(db: WeftDb, signer: Signer, view: Snapshot): Promise<void> {
  const kept: KeptRow[] = view.rows.map((r) => [r.id, r.title, r.status, [...r.labels], r.assignee, r.updatedAt]);
  return putSigned(db, signer, SNAPSHOT_KEY, PURPOSE, { ...view, rows: kept });
}

export type Loaded = { snapshot: Snapshot } | { refused: string } | undefined;

/**
 * The saved view, if there is one and it checks out: signed by this
 * browser's device key, for this device, well formed, within bounds and
 * agreeing with its own counts. One that fails is deleted and reported as
 * refused, with why.
 */
export async function loadSnapshot(db: WeftDb, verifier: Verifier): Promise<Loaded> {
  void db.delete("settings", OLD_KEY);
  const read = await getSigned(db, verifier, SNAPSHOT_KEY, PURPOSE, MAX_JSON);
  if (read === undefined || "refused" in read) return read;
  const reason = inconsistency(read.json, read.did);
  if (typeof reason !== "string") return { snapshot: reason };
  await db.delete("settings", SNAPSHOT_KEY);
  return { refused: reason };
}

function inconsistency(json: unknown, did: string): Snapshot | string {
  let view: Snapshot;
  try {
    view = snapshot(json, "snapshot");
  } catch (e) {
    return `it is malformed (${(e as Error).message})`;
  }
  if (view.did !== did) return "it was saved by another device";
  if (view.rows.length !== view.total) return `it claims ${view.total} tasks and holds ${view.rows.length}`;
  if (new Set(view.rows.map((r) => r.id)).size !== view.rows.length) return "it holds a task twice";
  if (view.ops < view.total) return `it claims ${view.ops} operations for ${view.total} tasks`;
  if ((view.ops === 0) !== (view.heads.length === 0)) return "its heads do not fit its operations";
  return view;
}

/**
 * Whether `snapshot` claimed what the verified node does not have, once it
 * has caught up: a head its log never saw, or, when nothing happened since
 * (the same heads), rows other than the node's own. Undefined when it
 * matches; else why not.
 */
export function mismatch(
  snapshot: Snapshot,
  verified: { has(cid: string): boolean; heads: string[]; rows: TaskRow[] },
): string | undefined {
  const unknown = snapshot.heads.find((h) => !verified.has(h));
  if (unknown) return `it claims an operation the verified space does not have (${unknown})`;
  const same = snapshot.heads.length === verified.heads.length &&
    snapshot.heads.every((h) => verified.heads.includes(h));
  if (!same) return undefined;
  const key = (rows: TaskRow[]) => JSON.stringify(rows.map((r) => [r.id, r.title, r.status, r.labels, r.updatedAt]));
  return key(snapshot.rows) === key(verified.rows)
    ? undefined
    : "its tasks differ from the verified space's at the same operations";
}
