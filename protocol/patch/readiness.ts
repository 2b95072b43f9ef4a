/**
 * Whether a patch may merge now, as this node sees it, and the evidence a
 * merge would carry: the runs of the head commit recorded in the space's
 * tasks, their manifests fetched (from this node or a member) and verified,
 * judged by the same gate the reducer applies (gate.ts). It is what
 * `weft patch show` displays and what `weft patch merge` signs — so a
 * person is told which check is missing or failed before anything is sent,
 * and a merge that is sent carries what every node will accept.
 */
import type { Task } from "../tasks/state.ts";
import { type EvidenceOptions, type RunEvidence, verifyEvidence } from "./evidence.ts";
import { type CheckVerdict, judgeChecks, type MergePolicy } from "./gate.ts";
import { approversOf, latestRevision, type Patch } from "./state.ts";

export interface Readiness {
  /** The revision a merge would land, and its head commit. */
  revision: string;
  head: string;
  checks: CheckVerdict[];
  approvals: { have: string[]; need: number };
  /** Why it may not merge now, for people; empty when it may. */
  blockers: string[];
  /** The manifests of the runs that pass its checks: what a merge carries. */
  evidence: Uint8Array[];
}

export interface ReadinessInput extends EvidenceOptions {
  patch: Patch;
  policy: MergePolicy;
  tasks: Iterable<Task>;
  /** A manifest block by CID, from this node or a member; undefined if none has it. */
  manifest(cid: string): Promise<Uint8Array | undefined>;
  /** Unix ms: the time a merge signed now would carry. */
  now: number;
}

/** The runs of `head` the space's tasks record, verified; and what could not be. */
async function runsOf(input: ReadinessInput, head: string) {
  const runs: { bytes: Uint8Array; facts: RunEvidence }[] = [];
  const problems: string[] = [];
  const byId = new Map<string, Task>();
  for (const task of input.tasks) {
    byId.set(task.id, task);
    if (task.run?.source?.commit !== head) continue;
    for (const result of task.results) {
      if (result.manifest === undefined) continue;
      const bytes = await input.manifest(result.manifest).catch(() => undefined);
      if (!bytes) {
        problems.push(`the manifest ${result.manifest} of task ${task.id} is not on this node or a connected member`);
        continue;
      }
      try {
        runs.push({ bytes, facts: await verifyEvidence(bytes, input.now, input) });
      } catch (e) {
        problems.push(`the run of task ${task.id} does not verify: ${(e as Error).message}`);
      }
    }
  }
  return { runs, problems, byId };
}

export async function mergeReadiness(input: ReadinessInput): Promise<Readiness> {
  const { patch, policy } = input;
  const revision = latestRevision(patch);
  const { runs, problems, byId } = await runsOf(input, revision.head);
  const checks = judgeChecks({
    rules: policy.checks,
    head: revision.head,
    evidence: runs.map((r) => r.facts),
    task: (id) => byId.get(id),
    // A merge signed now names this node's heads: everything it knows is in its past.
    seen: () => true,
  });
  const have = approversOf(patch, revision.id);
  const blockers = [
    ...(patch.status !== "open" ? [`the patch is ${patch.status}`] : []),
    ...checks.filter((c) => c.status !== "passed").map((c) => `check ${c.name} ${c.status}: ${c.reason}`),
    ...(have.length < policy.approvals
      ? [`needs ${policy.approvals} approval(s) of revision ${revision.id}, has ${have.length}`]
      : []),
  ];
  if (blockers.length > 0) blockers.push(...problems);
  const passed = new Set(checks.filter((c) => c.status === "passed").map((c) => c.run?.manifest));
  return {
    revision: revision.id,
    head: revision.head,
    checks,
    approvals: { have, need: policy.approvals },
    blockers,
    evidence: runs.filter((r) => passed.has(r.facts.manifest)).map((r) => r.bytes),
  };
}
