/**
 * The approval gate every family's reducer asks before it applies an
 * agent's step that the space's gates hold back: a job with network, a
 * push to a gated ref, a reservation past the spending threshold. Such a
 * step must name (`approval`) an approve operation that is in its causal
 * past, answers a request of the same kind by the same agent, has not
 * expired at the step's time, and whose request's scope covers the step
 * (the program, the refs, the amount). Otherwise it is refused with
 * `approval/required`, on every node alike. Steps by people are never
 * gated: an operation is an agent's when its delegation chain runs through
 * a delegation made for an agent.
 */
import type { LogOp, Outcome, ReduceContext } from "../tasks/family.ts";
import { compileGlob, matchGlob } from "../ucan/policy/glob.ts";
import { APPROVAL_FAMILY, type ApprovalReducer, type Gates } from "./reducer.ts";

/** What a step would do, as far as a gate looks at it. */
export type GatedStep =
  | { kind: "network"; program: string }
  | { kind: "push"; refs: readonly string[] }
  /** `to`: the agent's spending in the space (spent and reserved, micro-USD) once this reservation lands. */
  | { kind: "spend"; to: number };

/** What a gated operation may carry: the approve operation that lets it through. */
export interface MaybeApproved extends LogOp {
  readonly args: LogOp["args"] & { readonly approval?: string };
}

/** Does a gate hold this step back? */
export function isGated(gates: Gates | undefined, step: GatedStep): boolean {
  if (!gates) return false;
  switch (step.kind) {
    case "network":
      return gates.network;
    case "push":
      return step.refs.some((ref) => gates.push.some((g) => matchGlob(compileGlob(g), ref)));
    case "spend":
      return gates.spendUsd !== undefined && step.to > gates.spendUsd;
  }
}

const describe = (step: GatedStep) =>
  step.kind === "network"
    ? `a job with network (${step.program})`
    : step.kind === "push"
    ? `a push to ${step.refs.join(", ")}`
    : `spending up to ${step.to} micro-USD`;

/** Why the step does not fall within what the request asked for, or undefined if it does. */
function outOfScope(
  request: { program?: string; refs?: string[]; upToUsd?: number },
  step: GatedStep,
): string | undefined {
  switch (step.kind) {
    case "network":
      return request.program === step.program ? undefined : `it approved program ${request.program}`;
    case "push": {
      const extra = step.refs.filter((r) => !request.refs?.includes(r));
      return extra.length === 0 ? undefined : `it does not cover ${extra.join(", ")}`;
    }
    case "spend":
      return step.to <= (request.upToUsd ?? 0) ? undefined : `it approved spending up to ${request.upToUsd} micro-USD`;
  }
}

/**
 * Why `op` (a step of kind `step`) is refused for want of an approval, as an
 * outcome with the code `approval/required`; undefined if it may go ahead.
 */
export function approvalRefusal(
  context: Partial<Pick<ReduceContext, "reducer" | "isAgent" | "precedes">> | undefined,
  op: MaybeApproved,
  step: GatedStep,
): Outcome | undefined {
  const approvals = context?.reducer?.(APPROVAL_FAMILY) as ApprovalReducer | undefined;
  if (!approvals || !isGated(approvals.gates, step) || !context?.isAgent?.(op)) return undefined;
  const refused = (why: string): Outcome => ({
    applied: false,
    code: "approval/required",
    reason: `${describe(step)} by agent ${op.author} needs a person's approval (gates ${approvals.gates?.op}): ${why}`,
  });
  const cid = op.args.approval;
  if (cid === undefined) {
    return refused(`it names none; request one of kind ${step.kind} and name the approval once a person gives it`);
  }
  const request = approvals.approvedBy(cid);
  if (!request) return refused(`${cid} is not an approval of any request`);
  if (request.kind !== step.kind) return refused(`${cid} approved a ${request.kind} step, not ${step.kind}`);
  if (request.author !== op.author) return refused(`${cid} approved ${request.author}'s request, not this agent's`);
  if (!context.precedes?.(cid, op.cid)) return refused(`approval ${cid} was not in its causal past`);
  if ((request.answer?.expires ?? 0) < op.args.at[0]) {
    return refused(`approval ${cid} expired at ${new Date(request.answer?.expires ?? 0).toISOString()}`);
  }
  const scope = outOfScope(request, step);
  if (scope) return refused(`approval ${cid} does not cover it: ${scope}`);
  return undefined;
}
