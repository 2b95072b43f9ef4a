/**
 * The deterministic reduction of a space's repository operations: which
 * repositories exist and where their refs point. Every update is a
 * compare-and-swap on what its author saw (`old`), applied in the log's one
 * (HLC, CID) order, so of concurrent pushes to one ref the first in that
 * order wins everywhere and the others are refused as stale — and kept, with
 * why, in the repository's push history: never a silent loss. A push's
 * updates apply all together or not at all. Only a maintainer moves the
 * default branch; which other refs a signer may move is its delegation's
 * policy (ref-policy.ts), checked before the reducer sees the push.
 *
 * A paused agent's operations are refused, as in the task family (whose
 * pause and resume operations it reads through the context), and so is an
 * agent's push to refs the space's approval gates hold back, unless it
 * names an approval that covers it (approvals/gate.ts).
 *
 * Other families move refs through `updateRefs` (a patch merge updating its
 * target branch): the same checks, the same history, at that operation's
 * place in the order. The reducer holds refs as the space agrees on them; a
 * peer's bare repository follows them once it has the objects.
 */
import type { FamilyReducer, Outcome, ReduceContext } from "../tasks/family.ts";
import type { Hlc } from "../tasks/hlc.ts";
import { pausedRefusal } from "../tasks/task-family.ts";
import { approvalRefusal } from "../approvals/gate.ts";
import { isZeroId, type RefUpdate, type RepoOp } from "./ops.ts";
import type { PushRecord, Repository } from "./state.ts";

/** Pushes a repository's history keeps (the newest). */
export const MAX_PUSH_RECORDS = 1000;
export const REPO_FAMILY = "repo";

/** Who moves refs, and from which operation: a push, or another family's (a patch merge). */
export interface RefSource {
  op: string;
  family: string;
  by: string;
  at: Hlc;
}

const OK: Outcome = { applied: true };

export class RepoReducer implements FamilyReducer<RepoOp> {
  readonly repos: Map<string, Repository>;
  /** Repositories this reducer may change in place; others are shared with a fork and copied first. */
  #owned = new WeakSet<Repository>();

  constructor(repos = new Map<string, Repository>()) {
    this.repos = repos;
  }

  fork(): RepoReducer {
    this.#owned = new WeakSet();
    return new RepoReducer(new Map(this.repos));
  }

  #own(name: string): Repository | undefined {
    const repo = this.repos.get(name);
    if (!repo || this.#owned.has(repo)) return repo;
    const copy: Repository = { ...repo, refs: new Map(repo.refs), pushes: [...repo.pushes] };
    this.repos.set(name, copy);
    this.#owned.add(copy);
    return copy;
  }

  apply(op: RepoOp, context?: ReduceContext): Outcome {
    const paused = pausedRefusal(context, op.author);
    if (paused) return { applied: false, reason: paused };
    if (op.kind === "create") {
      const a = op.args;
      if (this.repos.has(a.repo)) return { applied: false, reason: `repository ${a.repo} already exists` };
      const maintainers = [...new Set(a.maintainers?.length ? a.maintainers : [op.author])].sort();
      const repo: Repository = {
        name: a.repo,
        defaultBranch: a.defaultBranch,
        maintainers,
        description: a.description ?? "",
        creator: op.author,
        createdAt: a.at,
        op: op.cid,
        refs: new Map(),
        pushes: [],
      };
      this.repos.set(a.repo, repo);
      this.#owned.add(repo);
      return OK;
    }
    const gated = approvalRefusal(context, op, { kind: "push", refs: op.args.updates.map((u) => u.ref) });
    if (gated) return gated;
    return this.updateRefs({ op: op.cid, family: REPO_FAMILY, by: op.author, at: op.args.at }, op.args.repo, [
      ...op.args.updates,
    ]);
  }

  /**
   * Move refs of `repo` for `source`, all or none: each update's `old` must
   * be where the ref points now (zero: it must not exist), and only a
   * maintainer moves the default branch. Recorded in the repository's push
   * history either way. The seam for other families (a patch merge).
   */
  updateRefs(source: RefSource, name: string, updates: RefUpdate[]): Outcome {
    const repo = this.#own(name);
    if (!repo) return { applied: false, reason: `repository ${name} does not exist` };
    const reason = this.#problem(repo, source, updates);
    const record: PushRecord = {
      op: source.op,
      family: source.family,
      by: source.by,
      at: source.at,
      updates: updates.map((u) => ({ ref: u.ref, old: u.old, new: u.new })),
      applied: reason === undefined,
      ...(reason !== undefined ? { reason } : {}),
    };
    repo.pushes.push(record);
    if (repo.pushes.length > MAX_PUSH_RECORDS) repo.pushes.splice(0, repo.pushes.length - MAX_PUSH_RECORDS);
    if (reason !== undefined) return { applied: false, reason };
    for (const u of updates) {
      if (isZeroId(u.new)) repo.refs.delete(u.ref);
      else repo.refs.set(u.ref, { commit: u.new, op: source.op, by: source.by, at: source.at });
    }
    return OK;
  }

  #problem(repo: Repository, source: RefSource, updates: RefUpdate[]): string | undefined {
    const defaultRef = `refs/heads/${repo.defaultBranch}`;
    for (const u of updates) {
      if (u.ref === defaultRef && !repo.maintainers.includes(source.by)) {
        return `only a maintainer of ${repo.name} moves its default branch ${repo.defaultBranch}`;
      }
      const current = repo.refs.get(u.ref);
      if (isZeroId(u.old) ? current !== undefined : current?.commit !== u.old) {
        return `stale: ${u.ref} is at ${current?.commit ?? "nothing"}` +
          (current ? ` (moved by ${current.op})` : "") + `, not ${isZeroId(u.old) ? "absent" : u.old}; fetch and retry`;
      }
    }
    return undefined;
  }
}
