/**
 * The deterministic patch reducer: patch operations in (HLC, CID) order,
 * each patch's state and the space's merge policies out. An operation that
 * does not fit (a revision by someone other than the author, a review of an
 * unknown revision, a merge of a stale revision or one whose required
 * checks are missing or failed) is refused with a reason and changes
 * nothing — the same on every node, because it is judged only from the
 * operations, the task state at the same point of the log, and the causal
 * graph.
 *
 * `fork()` makes a cheap copy-on-write snapshot, so the log can rewind to a
 * checkpoint when an operation arrives out of order.
 */
import { compareHlc } from "../tasks/hlc.ts";
import type { FamilyReducer, Outcome, ReduceContext } from "../tasks/family.ts";
import type { TaskReducer } from "../tasks/reducer.ts";
import { REPO_FAMILY, type RepoReducer } from "../repo/reducer.ts";
import type { RunEvidence } from "./evidence.ts";
import { DEFAULT_POLICY, judgeChecks, type MergePolicy } from "./gate.ts";
import type { PatchOp } from "./ops.ts";
import { approversOf, latestRevision, type Patch } from "./state.ts";

/** A merge operation with the facts its evidence proved when it entered the log (evidence.ts). */
export type MergeOp = Extract<PatchOp, { kind: "merge" }> & { verified?: readonly RunEvidence[] };

const OK: Outcome = { applied: true };
const refuse = (reason: string): Outcome => ({ applied: false, reason });

export class PatchReducer implements FamilyReducer<PatchOp> {
  readonly patches: Map<string, Patch>;
  /** Merge policies by repository name (`*` for every repository without its own). */
  readonly policies: Map<string, MergePolicy>;
  #owned = new WeakSet<Patch>();

  constructor(patches = new Map<string, Patch>(), policies = new Map<string, MergePolicy>()) {
    this.patches = patches;
    this.policies = policies;
  }

  fork(): PatchReducer {
    this.#owned = new WeakSet();
    return new PatchReducer(new Map(this.patches), new Map(this.policies));
  }

  /** The policy that governs `repo`'s patches. */
  policyFor(repo: string): MergePolicy {
    return this.policies.get(repo) ?? this.policies.get("*") ?? DEFAULT_POLICY;
  }

  #own(id: string): Patch | undefined {
    const patch = this.patches.get(id);
    if (!patch || this.#owned.has(patch)) return patch;
    const copy: Patch = {
      ...patch,
      tasks: [...patch.tasks],
      revisions: [...patch.revisions],
      reviews: [...patch.reviews],
      history: [...patch.history],
    };
    this.patches.set(id, copy);
    this.#owned.add(copy);
    return copy;
  }

  apply(op: PatchOp, context: ReduceContext): Outcome {
    const at = op.args.at;
    if (op.kind === "policy") {
      const { repo, checks, approvals } = op.args;
      this.policies.set(repo, { checks, approvals: approvals ?? 0 });
      return OK;
    }
    if (op.kind === "propose") {
      const a = op.args;
      if (this.patches.has(a.patch)) return refuse(`patch ${a.patch} already exists`);
      if (!(context.reducer(REPO_FAMILY) as RepoReducer | undefined)?.repos.has(a.repo)) {
        return refuse(`repository ${a.repo} does not exist in this space`);
      }
      if (a.base === a.head) return refuse("the head commit is the base: there is nothing to merge");
      const created: Patch = {
        id: a.patch,
        repo: a.repo,
        target: a.target,
        title: a.title,
        author: op.author,
        createdAt: at,
        updatedAt: at,
        status: "open",
        tasks: [...new Set(a.tasks ?? [])],
        revisions: [{
          id: op.cid,
          author: op.author,
          at,
          base: a.base,
          head: a.head,
          description: a.description ?? "",
        }],
        reviews: [],
        ...(a.provenance ? { provenance: a.provenance } : {}),
        history: [{ op: op.cid, kind: op.kind, author: op.author, at }],
      };
      this.patches.set(a.patch, created);
      this.#owned.add(created);
      return OK;
    }
    const patch = this.#own(op.args.patch);
    if (!patch) return refuse(`patch ${op.args.patch} does not exist`);
    const outcome = this.#applyTo(patch, op, context);
    if (outcome.applied) {
      if (compareHlc(at, patch.updatedAt) > 0) patch.updatedAt = at;
      patch.history.push({ op: op.cid, kind: op.kind, author: op.author, at });
    }
    return outcome;
  }

  #applyTo(patch: Patch, op: Exclude<PatchOp, { kind: "propose" | "policy" }>, context: ReduceContext): Outcome {
    switch (op.kind) {
      case "revise": {
        if (op.author !== patch.author) return refuse(`only the patch's author ${patch.author} may revise it`);
        if (patch.status !== "open") return refuse(`patch is ${patch.status}`);
        const last = latestRevision(patch);
        const base = op.args.base ?? last.base;
        if (op.args.head === last.head && base === last.base) return refuse("the revision changes nothing");
        if (op.args.head === base) return refuse("the head commit is the base: there is nothing to merge");
        patch.revisions.push({
          id: op.cid,
          author: op.author,
          at: op.args.at,
          base,
          head: op.args.head,
          description: op.args.description ?? last.description,
        });
        return OK;
      }
      case "review": {
        const a = op.args;
        if (!patch.revisions.some((r) => r.id === a.revision)) {
          return refuse(`revision ${a.revision} is not a revision of patch ${patch.id}`);
        }
        if (a.verdict !== "comment" && patch.status !== "open") return refuse(`patch is ${patch.status}`);
        // Counted for whom it was made: a person's review signed by a bridge they paired is theirs.
        const reviewer = context.principalOf(op);
        if (a.verdict !== "comment" && (reviewer === patch.author || op.author === patch.author)) {
          return refuse("the patch's author cannot approve or request changes on their own patch");
        }
        patch.reviews.push({
          id: op.cid,
          author: reviewer,
          ...(reviewer === op.author ? {} : { signer: op.author }),
          at: a.at,
          revision: a.revision,
          verdict: a.verdict,
          body: a.body ?? "",
          comments: a.comments ?? [],
        });
        return OK;
      }
      case "merge":
        return this.#merge(patch, op, context);
      case "close":
        if (patch.status !== "open") return refuse(`patch is ${patch.status}`);
        patch.status = "closed";
        return OK;
      case "reopen":
        if (patch.status !== "closed") return refuse(`patch is ${patch.status}, not closed`);
        patch.status = "open";
        return OK;
    }
  }

  #merge(patch: Patch, op: MergeOp, context: ReduceContext): Outcome {
    const a = op.args;
    if (patch.status !== "open") return refuse(`patch is ${patch.status}`);
    const revision = latestRevision(patch);
    if (a.revision !== revision.id) {
      return refuse(`revision ${a.revision} is not the latest revision of patch ${patch.id} (${revision.id})`);
    }
    if (a.strategy === "fast-forward" && a.commit !== revision.head) {
      return refuse(`a fast-forward lands the head ${revision.head} itself, not ${a.commit}`);
    }
    if (a.strategy === "merge-commit" && a.commit === revision.head) {
      return refuse("a merge commit is a new commit, not the head itself: merge with fast-forward");
    }
    if (!op.verified) return refuse("its evidence was not verified when it entered the log");
    const policy = this.policyFor(patch.repo);
    const tasks = (context.reducer("task") as TaskReducer | undefined)?.tasks;
    const checks = judgeChecks({
      rules: policy.checks,
      head: revision.head,
      evidence: op.verified,
      task: (id) => tasks?.get(id),
      seen: (cid) => context.precedes(cid, op.cid),
    });
    const unmet = checks.filter((c) => c.status !== "passed");
    if (unmet.length > 0) {
      return refuse(`required checks not met: ${unmet.map((c) => `${c.name} ${c.status}: ${c.reason}`).join("; ")}`);
    }
    const approvers = approversOf(patch, revision.id).filter((who) =>
      context.precedes(
        (patch.reviews.findLast((r) => r.author === who && r.revision === revision.id) as { id: string }).id,
        op.cid,
      )
    );
    if (approvers.length < policy.approvals) {
      return refuse(
        `needs ${policy.approvals} approval(s) of revision ${revision.id} from reviewers other than its author, ` +
          `the merger had seen ${approvers.length}`,
      );
    }
    // The ref moves through the repository family: its compare-and-swap, its maintainer rule, its history.
    const repos = context.reducer(REPO_FAMILY) as RepoReducer | undefined;
    if (!repos) return refuse("this log has no repositories to merge into");
    const moved = repos.updateRefs({ op: op.cid, family: "patch", by: op.author, at: a.at }, patch.repo, [
      { ref: patch.target, old: a.onto, new: a.commit },
    ]);
    if (!moved.applied) return refuse(`${patch.target} of ${patch.repo} did not move: ${moved.reason}`);
    patch.status = "merged";
    patch.merge = {
      op: op.cid,
      by: op.author,
      at: a.at,
      revision: revision.id,
      commit: a.commit,
      strategy: a.strategy,
      ref: patch.target,
      checks,
    };
    return OK;
  }
}
