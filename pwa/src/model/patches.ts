/**
 * Patches as the dashboard reads and changes them. The list and each patch
 * come from this node's own reduction of the space's signed log (the same
 * on every node); whether a patch may merge is judged by the same gate
 * every node applies (protocol/patch/readiness.ts), over the runs of its
 * head commit whose manifests this browser holds or fetches from the mesh
 * by CID and verifies itself. Reviews and merges are operations signed
 * here with this browser's key; a merge carries the verified manifests, so
 * every node judges it from its own bytes.
 */
import { WeftError } from "#protocol";
import {
  type CheckStatus,
  latestRevision,
  mergeReadiness,
  type Patch,
  PATCH_FAMILY,
  type PatchReducer,
  type Readiness,
} from "#protocol/patch";
import { REPO_FAMILY, type RepoReducer, zeroId } from "#protocol/repo";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import type { BrowserNode } from "../node/browser-node.ts";
import { can } from "./can.ts";

/** How long finding a run's manifest on connected members may take before it counts as missing. */
const MANIFEST_WAIT_MS = 10_000;

export function patchState(space: Space): PatchReducer {
  return space.log.state<PatchReducer>(PATCH_FAMILY);
}

/** Every patch of the space, newest first. */
export function listPatches(space: Space): Patch[] {
  return [...patchState(space).patches.values()].sort((a, b) =>
    b.createdAt[0] - a.createdAt[0] || b.createdAt[1] - a.createdAt[1] || a.id.localeCompare(b.id)
  );
}

/** What the checks of a patch add up to: all passed, one failed, or one missing (failed wins). */
export function checksSummary(statuses: readonly CheckStatus[]): CheckStatus {
  if (statuses.includes("failed")) return "failed";
  if (statuses.includes("missing")) return "missing";
  return "passed";
}

/** Whether `patch` may merge now, as this browser sees it (verifying every manifest it judges). */
export function readinessOf(bn: BrowserNode, space: Space, patch: Patch): Promise<Readiness> {
  return mergeReadiness({
    patch,
    policy: patchState(space).policyFor(patch.repo),
    tasks: space.log.reducer.tasks.values(),
    manifest: async (cid) =>
      (await bn.db.get("manifests", cid))?.bytes ??
        await bn.node.fetchBlob(cid, AbortSignal.timeout(MANIFEST_WAIT_MS)),
    validator: space.authority.validator,
    now: Date.now(),
  });
}

/** Why this browser may not merge the patch now; empty when it may. */
export function mergeBlockers(space: Space, did: string, patch: Patch, readiness: Readiness | undefined): string[] {
  const right = can(space, did, Commands.patchMerge)
    ? []
    : [`you hold no merge right (${Commands.patchMerge}) in this space: ask a maintainer to merge, or for the right`];
  const repo = space.log.state<RepoReducer>(REPO_FAMILY).repos.get(patch.repo);
  const maintainer = repo && patch.target === `refs/heads/${repo.defaultBranch}` && !repo.maintainers.includes(did)
    ? [`only a maintainer of ${patch.repo} moves its default branch ${repo.defaultBranch}, and you are not one`]
    : [];
  if (!readiness) return [...right, ...maintainer, "checking the patch's checks…"];
  return [...right, ...maintainer, ...readiness.blockers];
}

/** Why this browser may not comment on a patch; undefined when it may. */
export function commentBlocker(space: Space, did: string): string | undefined {
  return can(space, did, Commands.patchReview)
    ? undefined
    : `you hold no review right (${Commands.patchReview}) in this space`;
}

/** Why this browser may not approve or request changes on the patch; undefined when it may. */
export function reviewBlocker(space: Space, did: string, patch: Patch): string | undefined {
  const cannot = commentBlocker(space, did);
  if (cannot) return cannot;
  if (patch.status !== "open") return `the patch is ${patch.status}`;
  if (patch.author === did) return "you proposed this patch: someone else approves it or requests changes";
  return undefined;
}

export interface ReviewInput {
  verdict: "approve" | "request-changes" | "comment";
  body?: string;
  comments?: { path: string; line: number; body: string }[];
  /** The revision reviewed (default: the latest). */
  revision?: string;
}

/** A review, signed here. */
export async function review(space: Space, patch: Patch, input: ReviewInput): Promise<void> {
  await space.perform(Commands.patchReview, {
    patch: patch.id,
    revision: input.revision ?? latestRevision(patch).id,
    verdict: input.verdict,
    ...(input.body ? { body: input.body } : {}),
    ...(input.comments?.length ? { comments: input.comments } : {}),
  });
}

/** A fast-forward merge of the latest revision, signed here, carrying the evidence its checks passed on. */
export async function merge(space: Space, patch: Patch, readiness: Readiness): Promise<void> {
  if (readiness.blockers.length > 0) {
    throw new WeftError(
      "NotMergeable",
      "patch/not-mergeable",
      `it may not merge yet: ${readiness.blockers.join("; ")}`,
    );
  }
  const ref = space.log.state<RepoReducer>(REPO_FAMILY).repos.get(patch.repo)?.refs.get(patch.target);
  const { cid } = await space.perform(Commands.patchMerge, {
    patch: patch.id,
    revision: readiness.revision,
    onto: ref?.commit ?? zeroId(readiness.head),
    commit: readiness.head,
    strategy: "fast-forward",
    evidence: readiness.evidence,
  });
  const outcome = space.log.outcome(cid);
  if (outcome && !outcome.applied) {
    throw new WeftError("Conflict", "patch/refused", `the merge was refused: ${outcome.reason}`);
  }
}

/** The commits a patch's revisions name (bases and heads): what the browser fetches to show them. */
export function patchCommits(patches: Iterable<Patch>): string[] {
  return [...new Set([...patches].flatMap((p) => p.revisions.flatMap((r) => [r.base, r.head])))];
}

/**
 * What a patch's readiness depends on, as a string: its latest revision,
 * its reviews and status, the policy, and the run results recorded on its
 * head commit (`results` counts them by commit). Recomputed only when this changes.
 */
export function readinessKey(space: Space, patch: Patch, results: Map<string, number>): string {
  const head = latestRevision(patch).head;
  const policy = patchState(space).policyFor(patch.repo);
  return `${latestRevision(patch).id}|${patch.status}|${patch.reviews.length}|${results.get(head) ?? 0}|${
    JSON.stringify(policy)
  }`;
}

/** How many run results the space's tasks record per source commit. */
export function resultsByCommit(space: Space): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of space.log.reducer.tasks.values()) {
    const commit = t.run?.source?.commit;
    if (commit && t.results.length > 0) out.set(commit, (out.get(commit) ?? 0) + t.results.length);
  }
  return out;
}
