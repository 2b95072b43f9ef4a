/** Tasks as a family of the space's operation log (family.ts): the task commands, keyed by task id. */
import type { OpFamily } from "./family.ts";
import { opKindOf, parseTaskOp, type TaskOp } from "./ops.ts";
import { TaskReducer } from "./reducer.ts";

export const TASK_FAMILY = "task";

export const taskFamily: OpFamily<TaskOp> = {
  name: TASK_FAMILY,
  owns: (command) => opKindOf(command) !== undefined,
  parse: parseTaskOp,
  object: (op) => op.args.task,
  // Concurrent claims are settled by who was witnessed first.
  needsWitness: (op) => op.kind === "claim",
  reducer: () => new TaskReducer(),
};
