/**
 * The merge gate: which checks a repository's patches need (the space's
 * merge policy) and whether a set of verified runs meets them for one head
 * commit. One function judges for everyone — the reducer on every node when
 * a merge arrives, and `weft patch show|merge` when it tells a person what
 * is missing — so what a node shows is what the mesh will decide.
 *
 * A check passes on a run of the head commit (its spec's source commit)
 * that matches the rule (runner kind, program), whose manifest verifies
 * (evidence.ts), and whose task records a successful result naming that
 * manifest which the merger had seen; the run spec signed in the
 * provenance must be the task's own. A run that matches but did not
 * succeed makes the check failed; none at all, missing.
 */
import { runSpecCid } from "../runner/runner.ts";
import type { Task } from "../tasks/state.ts";
import type { RunEvidence } from "./evidence.ts";
import type { CheckRule } from "./ops.ts";

export interface MergePolicy {
  checks: CheckRule[];
  /** Approvals the merged revision needs from reviewers other than its author. */
  approvals: number;
}

/** With no policy set: a passing run of the repository's tests on the head commit, no approval required. */
export const DEFAULT_POLICY: MergePolicy = { checks: [{ name: "tests" }], approvals: 0 };

export type CheckStatus = "passed" | "failed" | "missing";

export interface CheckVerdict {
  name: string;
  status: CheckStatus;
  /** For people: what met it, or what is missing or failed and what to do. */
  reason: string;
  /** The run judged, if any. */
  run?: { task: string; manifest: string; runner: string; status: string };
}

export interface GateInput {
  rules: readonly CheckRule[];
  /** The head commit of the revision to merge. */
  head: string;
  evidence: readonly RunEvidence[];
  /** The space's tasks as they stand where the merge is judged. */
  task(id: string): Task | undefined;
  /** Had the merger seen this operation (it is in the merge's causal past)? */
  seen(op: string): boolean;
}

const matches = (rule: CheckRule, e: RunEvidence) =>
  (rule.runner === undefined || rule.runner === e.runner.kind) &&
  (rule.program === undefined || rule.program === e.program);

const describe = (rule: CheckRule) =>
  `a passing run${rule.runner ? ` on a ${rule.runner} runner` : ""}${rule.program ? ` of ${rule.program}` : ""}`;

/** Why this run does not count for the head commit, or undefined if it is linked to the log as it must be. */
function unlinked(e: RunEvidence, head: string, input: GateInput): string | undefined {
  if (e.commit !== head) return `run ${e.manifest} ran on ${e.commit ?? "no commit"}, not the head ${head}`;
  const task = input.task(e.task);
  if (!task?.run) return `run ${e.manifest} names task ${e.task}, which is not a run task in this space`;
  if (runSpecCid(task.run).toString() !== e.spec) {
    return `run ${e.manifest} ran another spec than task ${e.task} asks for`;
  }
  const result = task.results.find((r) => r.manifest === e.manifest);
  if (!result) return `task ${e.task} records no result with manifest ${e.manifest}`;
  if (!input.seen(result.op)) return `the result of task ${e.task} had not been seen by the merge`;
  return undefined;
}

/** Judge each rule against the runs given; every node reaches the same verdicts from the same log. */
export function judgeChecks(input: GateInput): CheckVerdict[] {
  return input.rules.map((rule): CheckVerdict => {
    let failed: CheckVerdict | undefined;
    const notCounted: string[] = [];
    for (const e of input.evidence) {
      if (!matches(rule, e)) continue;
      const why = unlinked(e, input.head, input);
      if (why) {
        notCounted.push(why);
        continue;
      }
      const task = input.task(e.task) as Task;
      const outcome = task.results.find((r) => r.manifest === e.manifest)?.outcome;
      const run = { task: e.task, manifest: e.manifest, runner: e.runner.did, status: e.status };
      if (e.status === "succeeded" && outcome === "success") {
        return { name: rule.name, status: "passed", reason: `task ${e.task} passed on ${input.head}`, run };
      }
      failed ??= {
        name: rule.name,
        status: "failed",
        reason: `task ${e.task} ${e.status === "succeeded" ? "was recorded as a failure" : `ended ${e.status}`} on ` +
          `${input.head}: fix the patch and push a new revision, or run the check again`,
        run,
      };
    }
    return failed ?? {
      name: rule.name,
      status: "missing",
      reason: `needs ${describe(rule)} on the head commit ${input.head}, with provenance that verifies` +
        (notCounted.length > 0 ? ` (${notCounted.join("; ")})` : "; run the repository's tests on it first"),
    };
  });
}
