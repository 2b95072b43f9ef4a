/**
 * The saved view: what the task list of the open space showed last, as the
 * node had verified it, signed with this device's key and kept in
 * IndexedDB, so the next visit renders it at once instead of after reading,
 * verifying and reducing every operation again. It is only ever shown as
 * "from your last visit, being checked"; the node still verifies everything
 * and replaces it. A record whose signature, device or shape does not check
 * out is refused (and deleted), never rendered.
 */
import { didFromPublicKey, type Signer, type Verifier } from "#protocol/identity";
import { int, list, object, oneOf, required, str } from "#protocol/schema";
import { STATUSES, type TaskRow } from "../model/task-row.ts";
import type { WeftDb } from "./db.ts";

/** Where it is kept (one saved view: the open space's). */
const KEY = "snapshot";
/** Bounds on what is read back: at most this much JSON, this many rows. */
const MAX_JSON = 1 << 20;
export const MAX_ROWS = 500;

export interface Snapshot {
  /** The device that verified and signed it. */
  did: string;
  space: string;
  name: string;
  /** Unix ms when it was saved. */
  savedAt: number;
  /** Tasks in the space then (the rows are the first page of them). */
  total: number;
  /** Signed operations in the space's log then. */
  ops: number;
  rows: TaskRow[];
}

const row = object({
  id: required(str(1, 64)),
  title: required(str(0, 1000)),
  status: required(oneOf(...STATUSES)),
  labels: required(list(str(0, 200), 64)),
  assignee: required(str(0, 300)),
  updatedAt: required(int(0, Number.MAX_SAFE_INTEGER)),
});
const snapshot = object({
  did: required(str(1, 200)),
  space: required(str(1, 200)),
  name: required(str(0, 1000)),
  savedAt: required(int(0, Number.MAX_SAFE_INTEGER)),
  total: required(int(0, Number.MAX_SAFE_INTEGER)),
  ops: required(int(0, Number.MAX_SAFE_INTEGER)),
  rows: required(list(row, MAX_ROWS)),
});

interface Stored {
  json: string;
  signature: Uint8Array;
}

/** Sign and keep `view` as the saved view; durable when this resolves. */
export async function saveSnapshot(db: WeftDb, signer: Signer, view: Snapshot): Promise<void> {
  const json = JSON.stringify(view);
  const signature = await signer.sign(new TextEncoder().encode(json));
  await db.put("settings", { json, signature } satisfies Stored, KEY);
}

export type Loaded = { snapshot: Snapshot } | { refused: string } | undefined;

/**
 * The saved view, if there is one and it checks out: signed by this
 * browser's device key, for this device, well formed and within bounds.
 * One that fails is deleted and reported as refused, with why.
 */
export async function loadSnapshot(db: WeftDb, verifier: Verifier): Promise<Loaded> {
  const [stored, key] = await Promise.all([db.get("settings", KEY), db.get("keys", "device")]);
  if (stored === undefined || key === undefined) return undefined;
  const reason = await refusal(stored, didFromPublicKey(key.publicKey), verifier);
  if (typeof reason !== "string") return { snapshot: reason };
  await db.delete("settings", KEY);
  return { refused: reason };
}

async function refusal(stored: unknown, did: string, verifier: Verifier): Promise<Snapshot | string> {
  const s = stored as Partial<Stored>;
  if (typeof s !== "object" || s === null || typeof s.json !== "string" || !(s.signature instanceof Uint8Array)) {
    return "it is not a saved view";
  }
  if (s.json.length > MAX_JSON) return `it is larger than ${MAX_JSON} characters`;
  if (!await verifier.verify(did, new TextEncoder().encode(s.json), s.signature)) {
    return "its signature is not this device's: it was changed after this browser saved it";
  }
  try {
    const view = snapshot(JSON.parse(s.json), "snapshot");
    return view.did === did ? view : "it was saved by another device";
  } catch (e) {
    return `it is malformed (${(e as Error).message})`;
  }
}
