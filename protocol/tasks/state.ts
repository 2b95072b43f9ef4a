/** The reduced state of a task, as every node computes it from the same operations. */
import type { Hlc } from "./hlc.ts";
import type { OpArgs } from "./ops.ts";
import type { RunSpec } from "../runner/runner.ts";

export type TaskStatus = "open" | "claimed" | "running" | "review" | "done" | "failed" | "cancelled";

export const TERMINAL: ReadonlySet<TaskStatus> = new Set(["done", "failed", "cancelled"]);

export type Requirements = NonNullable<OpArgs<"create">["requirements"]>;

export interface Lease {
  holder: string;
  fence: number;
  /** Unix ms at which the lease lapses unless renewed. */
  expires: number;
  claimedAt: Hlc;
}

export interface Comment {
  id: string;
  /** Whom it counts for: its signer, or the person the signer acted for (a bridge they paired; ucan/principal.ts). */
  author: string;
  /** Who signed it, when that is not `author` (the bridge). */
  signer?: string;
  at: Hlc;
  body: string;
}

export interface TaskResult {
  op: string;
  by: string;
  at: Hlc;
  fence: number;
  outcome: "success" | "failure";
  manifest?: string;
  summary?: string;
  exitCode?: number;
}

export interface HistoryEntry {
  op: string;
  kind: string;
  author: string;
  at: Hlc;
  /** For lease operations: the fencing token they carry. */
  fence?: number;
  /** For claims and renewals: when the lease they grant lapses (Unix ms). */
  expires?: number;
}

export interface Task {
  id: string;
  title: string;
  body: string;
  creator: string;
  createdAt: Hlc;
  updatedAt: Hlc;
  status: TaskStatus;
  labels: string[];
  deps: string[];
  requirements: Requirements;
  review: boolean;
  idempotencyKey?: string;
  /** What to run, for a task that asks for compute. */
  run?: RunSpec;
  /** The current lease, if claimed or running. */
  lease?: Lease;
  /** Highest fencing token ever issued for this task. */
  fence: number;
  /** Who holds or last held the task. */
  assignee?: string;
  results: TaskResult[];
  comments: Comment[];
  /** Every applied operation, in order. */
  history: HistoryEntry[];
}
