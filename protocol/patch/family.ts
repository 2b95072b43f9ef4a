/**
 * Patches as a family of the space's operation log (tasks/family.ts): the
 * patch commands, keyed by patch id (a repository's merge policy by
 * `policy:<repo>`). A merge's evidence — the run manifests it carries — is
 * verified when the operation enters the log (`admit`), once, from its own
 * bytes; the reducer then judges the gate synchronously, in log order,
 * against the task state at the same point.
 */
import type { AdmitContext, OpFamily } from "../tasks/family.ts";
import { verifyEvidence } from "./evidence.ts";
import { parsePatchOp, patchObjectOf, type PatchOp, patchOpKindOf } from "./ops.ts";
import { type MergeOp, PatchReducer } from "./reducer.ts";

export const PATCH_FAMILY = "patch";

export const patchFamily: OpFamily<PatchOp> = {
  name: PATCH_FAMILY,
  owns: (command) => patchOpKindOf(command) !== undefined,
  parse: parsePatchOp,
  object: patchObjectOf,
  async admit(op: PatchOp, context: AdmitContext): Promise<PatchOp> {
    if (op.kind !== "merge") return op;
    const verified = [];
    for (const [i, bytes] of op.args.evidence.entries()) {
      try {
        verified.push(await verifyEvidence(bytes, op.args.at[0], { validator: context.validator }));
      } catch (e) {
        if (e instanceof Error) e.message = `evidence[${i}]: ${e.message}`;
        throw e;
      }
    }
    return { ...op, verified } as MergeOp;
  },
  reducer: () => new PatchReducer(),
};
