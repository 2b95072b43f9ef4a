/**
 * Tasks as a family of the space's operation log (family.ts): the task
 * commands, keyed by task id — and the agent commands (pause, resume),
 * keyed by the agent's DID, since a pause must order against the task
 * operations it stops in the same reducer (spend.ts).
 */
import type { OpFamily, ReduceContext } from "./family.ts";
import { objectOf, opKindOf, parseTaskOp, type TaskOp } from "./ops.ts";
import { TaskReducer } from "./reducer.ts";
import { pausedReason } from "./spend.ts";

export const TASK_FAMILY = "task";

export const taskFamily: OpFamily<TaskOp> = {
  name: TASK_FAMILY,
  owns: (command) => opKindOf(command) !== undefined,
  parse: parseTaskOp,
  object: objectOf,
  // Concurrent claims are settled by who was witnessed first.
  needsWitness: (op) => op.kind === "claim",
  reducer: () => new TaskReducer(),
};

/**
 * Why `author`'s operation is refused at this point of the reduction if the
 * author is a paused agent, or undefined: another family's reducer asks
 * this first, so the kill switch stops an agent's pushes as well as its
 * task operations, ordered against the pause like them.
 */
export function pausedRefusal(context: ReduceContext | undefined, author: string): string | undefined {
  const pause = (context?.reducer(TASK_FAMILY) as TaskReducer | undefined)?.spend.paused(author);
  return pause && pausedReason(author, pause);
}
