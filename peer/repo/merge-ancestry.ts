/**
 * Whether a patch merge's commits line up in git, judged from a peer's
 * bare copy: a fast-forward's commit must descend from `onto` (where the
 * target ref points), a merge commit from both `onto` and the revision's
 * head. The patch log cannot judge this (its reducer has no git, and every
 * node must reach the same verdict from the operation's bytes), so a peer
 * that holds the commits checks it before it takes a merge in; one that
 * does not hold them cannot tell, and says nothing.
 */
import { OBJECT_ID } from "#protocol/repo";
import { missingObjects } from "./git-objects.ts";
import { git } from "./git-run.ts";

export interface MergeShape {
  strategy: "fast-forward" | "merge-commit";
  /** Where the target ref pointed (all zeros: nowhere yet). */
  onto: string;
  commit: string;
  /** The head of the revision merged. */
  head: string;
  target: string;
}

const isZero = (id: string) => /^0+$/.test(id);

/** Does `descendant` descend from (or equal) `ancestor` in `repo`? */
async function descends(repo: string, ancestor: string, descendant: string, env?: Record<string, string>) {
  const { code } = await git(["-C", repo, "merge-base", "--is-ancestor", ancestor, descendant], { ok: [1], env });
  return code === 0;
}

/**
 * Why the merge's commits do not line up; undefined when they do, or when this copy lacks a commit to tell.
 * `env` reads a quarantine's objects too (a merge commit uploaded with its merge).
 */
export async function ancestryProblem(
  repo: string,
  m: MergeShape,
  env?: Record<string, string>,
): Promise<string | undefined> {
  const ids = [m.commit, m.head, ...(isZero(m.onto) ? [] : [m.onto])];
  if (!ids.every((id) => OBJECT_ID.test(id))) return undefined;
  if ((await missingObjects(repo, ids, env)).length > 0) return undefined;
  if (!isZero(m.onto) && !(await descends(repo, m.onto, m.commit, env))) {
    return m.strategy === "fast-forward"
      ? `${m.commit} does not descend from ${m.onto}, where ${m.target} points: it is not a fast-forward; ` +
        "rebase the patch onto the target (a new revision) or merge it with a merge commit"
      : `the merge commit ${m.commit} does not descend from ${m.onto}, where ${m.target} points: ` +
        "make the merge commit on the target as it is now";
  }
  if (m.strategy === "merge-commit" && !(await descends(repo, m.head, m.commit, env))) {
    return `the merge commit ${m.commit} does not descend from the revision's head ${m.head}: it does not merge this patch`;
  }
  return undefined;
}
