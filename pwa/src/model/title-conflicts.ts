/**
 * Concurrent title edits, found rather than lost silently: the reducer
 * keeps the last title edit in (HLC, CID) order, so of two edits made
 * without seeing each other (neither in the other's causal past) one
 * replaces the other on every node, and nobody is told. This names the
 * title kept and those it replaced, until someone edits the title again
 * having seen them all.
 */
import type { Space } from "#protocol/space";
import type { Task } from "#protocol/tasks";

/** Title operations looked at, newest first; older concurrent edits were settled long ago. */
const RECENT_EDITS = 16;

export interface TitleEdit {
  op: string;
  author: string;
  title: string;
  at: number;
}

export interface TitleConflict {
  kept: TitleEdit;
  replaced: TitleEdit[];
}

export function titleConflict(space: Space, task: Task): TitleConflict | undefined {
  const edits: TitleEdit[] = [];
  for (let i = task.history.length - 1; i >= 0 && edits.length < RECENT_EDITS; i--) {
    const h = task.history[i];
    if (h.kind !== "edit" && h.kind !== "create") continue;
    const op = space.log.op(h.op);
    const title = op && (op.kind === "edit" || op.kind === "create") ? op.args.title : undefined;
    if (title !== undefined) edits.push({ op: h.op, author: h.author, title, at: h.at[0] });
  }
  const [kept, ...older] = edits;
  if (!kept) return undefined;
  const replaced = older.filter((e) => e.title !== kept.title && !space.log.precedes(e.op, kept.op));
  return replaced.length > 0 ? { kept, replaced } : undefined;
}
