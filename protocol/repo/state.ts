/** The reduced state of a repository, as every node computes it from the same operations. */
import type { Hlc } from "../tasks/hlc.ts";

export interface RefState {
  /** The commit the ref points at. */
  commit: string;
  /** The operation that set it last, by whom and when. */
  op: string;
  by: string;
  at: Hlc;
}

/** One attempt to move refs, and its fate: a refused push is kept, never silently lost. */
export interface PushRecord {
  op: string;
  /** The family the update came from: "repo" for a push, another for e.g. a patch merge. */
  family: string;
  by: string;
  at: Hlc;
  updates: { ref: string; old: string; new: string }[];
  applied: boolean;
  reason?: string;
}

export interface Repository {
  name: string;
  defaultBranch: string;
  maintainers: string[];
  description: string;
  creator: string;
  createdAt: Hlc;
  /** The create operation's CID. */
  op: string;
  refs: Map<string, RefState>;
  /** Every push, applied or refused, in the log's order (the last MAX_PUSH_RECORDS). */
  pushes: PushRecord[];
}
