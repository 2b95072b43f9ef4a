/**
 * Approvals as a family of the space's operation log (tasks/family.ts):
 * the space's gates (object `gates`) and each request with its answer
 * (object: the request's id). A request's plan hash is recomputed from the
 * plan when it is parsed, so no node keeps a request whose hash lies.
 */
import type { OpFamily } from "../tasks/family.ts";
import { InvalidInput } from "../schema/input-checks.ts";
import { approvalObjectOf, type ApprovalOp, approvalOpKindOf, parseApprovalOp } from "./ops.ts";
import { planHash } from "./plan-hash.ts";
import { APPROVAL_FAMILY, ApprovalReducer } from "./reducer.ts";

export const approvalFamily: OpFamily<ApprovalOp> = {
  name: APPROVAL_FAMILY,
  owns: (command) => approvalOpKindOf(command) !== undefined,
  parse(command, args, cid, author) {
    const op = parseApprovalOp(command, args, cid, author);
    if (op.kind === "request" && planHash(op.args.plan) !== op.args.hash) {
      throw new InvalidInput("args.hash", "must be the sha-256 (lowercase hex) of the plan's UTF-8 bytes");
    }
    return op;
  },
  object: approvalObjectOf,
  reducer: () => new ApprovalReducer(),
};
