/**
 * A patch merged from the browser with a merge commit, for when the target
 * has moved on and a fast-forward cannot land it. The commit is made here,
 * in this browser's copy of the repository (a clean three-way merge of the
 * revision's head onto where the target points; a conflict is refused with
 * what to do). It is new, and only a peer holding its objects can move the
 * target to it, so its objects go to a member peer first (`merge-objects`,
 * under the merge right: no push right is needed), then the merge signed
 * here goes to that peer with them: the peer takes the objects in only if
 * the merge applies, and the other peers fetch the commit from it.
 */
import git, { Errors } from "isomorphic-git";
import { toHex, WeftError } from "#protocol";
import { type Patch, type Readiness } from "#protocol/patch";
import { REPO_FAMILY, type RepoReducer } from "#protocol/repo";
import type { Space } from "#protocol/space";
import { Commands, encodeContainer } from "#protocol/ucan";
import { type ApiSigner, type PeerApi, refusalOf, signedFetch } from "./api-request.ts";
import type { RepoMirror } from "./repo-mirror.ts";

/** Where the merge is made from: a ref of this browser's own, never one the space names. */
const MERGING = "refs/weft/merging";

export interface MergeCommitRequest {
  me: ApiSigner;
  space: Space;
  patch: Patch;
  readiness: Readiness;
  mirror: RepoMirror;
  /** The member peer that takes the merge commit and the merge. */
  peer: PeerApi;
}

/** Merge `patch` with a merge commit made here; resolves with the merge commit's id once the peer took the merge. */
export async function mergeWithCommit(r: MergeCommitRequest): Promise<string> {
  const { me, space, patch, readiness, mirror, peer } = r;
  if (readiness.blockers.length > 0) {
    throw new WeftError(
      "NotMergeable",
      "patch/not-mergeable",
      `it may not merge yet: ${readiness.blockers.join("; ")}`,
    );
  }
  const onto = space.log.state<RepoReducer>(REPO_FAMILY).repos.get(patch.repo)?.refs.get(patch.target)?.commit;
  if (!onto) {
    throw new WeftError("Conflict", "patch/refused", `${patch.target} does not exist yet: merge by fast-forward`);
  }
  const head = readiness.head;
  await mirror.fetch(me, space, patch.repo, peer, [head]);
  const commit = await makeMergeCommit(mirror, mirror.gitdir(space.id, patch.repo), onto, head, me.did, patch);
  const quarantine = await sendObjects(
    r,
    await newObjects(mirror, mirror.gitdir(space.id, patch.repo), commit, [
      onto,
      head,
    ]),
  );
  const { invocation, chain } = await space.sign(Commands.patchMerge, {
    patch: patch.id,
    revision: readiness.revision,
    onto,
    commit,
    strategy: "merge-commit",
    evidence: readiness.evidence,
  });
  const bearer = await encodeContainer([invocation.bytes, ...chain.map((d) => d.bytes)], "C");
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/patches/${encodeURIComponent(patch.id)}/merge`;
  const res = await fetch(new URL(`${path}?quarantine=${quarantine}`, peer.origin), {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}` },
    cache: "no-store",
  });
  if (!res.ok) {
    const why = await refusalOf(res);
    throw new WeftError("Conflict", "patch/refused", `the merge was refused: ${why ?? `HTTP ${res.status}`}`);
  }
  await res.body?.cancel();
  return commit;
}

/** The merge commit of `head` onto `onto`, written into this browser's copy (no ref of the space moves). */
async function makeMergeCommit(
  mirror: RepoMirror,
  gitdir: string,
  onto: string,
  head: string,
  did: string,
  patch: Patch,
): Promise<string> {
  const fs = mirror.fs;
  await git.writeRef({ fs, gitdir, ref: MERGING, value: onto, force: true });
  try {
    const result = await git.merge({
      fs,
      gitdir,
      ours: MERGING,
      theirs: head,
      fastForward: false,
      noUpdateBranch: true,
      abortOnConflict: true,
      message: `Merge patch ${patch.id}: ${patch.title}\n`,
      author: { name: "Weft", email: did, timestamp: Math.floor(Date.now() / 1000) },
    });
    if (!result.oid || !result.mergeCommit) {
      throw new WeftError("Conflict", "patch/refused", "the head is already on the target: merge by fast-forward");
    }
    return result.oid;
  } catch (e) {
    if (e instanceof Errors.MergeConflictError || e instanceof Errors.MergeNotSupportedError) {
      throw new WeftError(
        "Conflict",
        "patch/refused",
        `the patch does not merge cleanly onto ${patch.target}: rebase it (a new revision), or merge it with git`,
      );
    }
    throw e;
  } finally {
    await git.deleteRef({ fs, gitdir, ref: MERGING });
  }
}

/** The merge commit and the trees and blobs of it that neither parent has: what the peer lacks. */
async function newObjects(mirror: RepoMirror, gitdir: string, commit: string, parents: string[]): Promise<string[]> {
  const out = [commit];
  await git.walk({
    fs: mirror.fs,
    gitdir,
    trees: [git.TREE({ ref: commit }), ...parents.map((ref) => git.TREE({ ref }))],
    map: async (path, [merged, ...before]) => {
      if (!merged) return null;
      const oid = await merged.oid();
      for (const b of before) if (b && (await b.oid()) === oid) return null; // a parent has it, and all under it
      out.push(oid);
      return path;
    },
  });
  return out;
}

/** Upload `oids` as a pack to the peer's merge-objects route; the quarantine's id. */
async function sendObjects(r: MergeCommitRequest, oids: string[]): Promise<string> {
  const { packfile } = await git.packObjects({
    fs: r.mirror.fs,
    gitdir: r.mirror.gitdir(r.space.id, r.patch.repo),
    oids,
  });
  const pack = new Uint8Array(packfile!);
  const sha256 = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", pack)));
  const base = `/v1/spaces/${encodeURIComponent(r.space.id)}/repos/${encodeURIComponent(r.patch.repo)}`;
  const res = await signedFetch({
    me: r.me,
    space: r.space,
    origin: r.peer.origin,
    ...(r.peer.did ? { audience: r.peer.did } : {}),
    command: Commands.patchMerge,
    method: "POST",
    path: `${base}/merge-objects?sha256=${sha256}&size=${pack.length}`,
    upload: pack,
  });
  if (!res.ok) {
    const why = await refusalOf(res);
    throw new WeftError(
      "Unavailable",
      "git/failed",
      `the peer at ${r.peer.origin} did not take the merge commit (${res.status}${why ? `: ${why}` : ""})`,
    );
  }
  return ((await res.json()) as { quarantine: string }).quarantine;
}
