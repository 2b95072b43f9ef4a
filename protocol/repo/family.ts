/** Repositories as a family of the space's operation log (tasks/family.ts), keyed by repository name. */
import type { OpFamily } from "../tasks/family.ts";
import { parseRepoOp, type RepoOp, repoOpKindOf } from "./ops.ts";
import { REPO_FAMILY, RepoReducer } from "./reducer.ts";

export const repoFamily: OpFamily<RepoOp> = {
  name: REPO_FAMILY,
  owns: (command) => repoOpKindOf(command) !== undefined,
  parse: parseRepoOp,
  object: (op) => op.args.repo,
  reducer: () => new RepoReducer(),
};
