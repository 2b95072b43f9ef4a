/**
 * One reconciliation pass between the Weft patches of one of a space's
 * repositories and the `xyz.radicle.patch` COBs of a Radicle repository,
 * as the bridge on both sides (its DID on Weft, its node id on Radicle).
 *
 * - An open patch with no counterpart gets one: a Radicle patch becomes a
 *   Weft patch with the same id (its commits pushed to the Weft repository
 *   under `refs/heads/radicle/<revision>`), a Weft patch a Radicle patch
 *   whose root change says `Weft-Patch: <id>` (its commits copied into the
 *   storage, `refs/heads/patches/<id>` in the bridge's namespace).
 * - Revisions are paired by their commits (base and head), so a revision
 *   either side already has is never written again.
 * - Reviews and comments are paired by id; what the bridge itself wrote
 *   (signed by its DID or its node id) is never carried back: no echo.
 *   A Radicle review becomes a Weft review with verdict `comment` stating
 *   its verdict: whoever can write to a Radicle repository must not be able
 *   to approve a Weft patch through the bridge.
 * - Closing maps to archiving and back; a Weft merge becomes a Radicle
 *   merge (the bridge must be a delegate) and moves the bridge's branch; a
 *   Radicle merge closes the Weft patch saying so, since a Weft merge is
 *   gated by checks that only Weft's runs can meet.
 */
import { MAX_REVIEW_COMMENTS, type Patch as WeftPatch, type Review as WeftReview } from "#protocol/patch";
import { zeroId } from "#protocol/repo";
import { RUN_PATH } from "#protocol/runner";
import { neutralized } from "#protocol/schema";
import { Commands } from "#protocol/ucan";
import { messageOf } from "#protocol";
import type { PatchLink, PatchStatus } from "./link-store.ts";
import type { SyncContext } from "./issue-sync.ts";
import { loadEvaluated } from "./load-objects.ts";
import type { GitRepo } from "./git-plumbing.ts";
import {
  evaluatePatch,
  lineLocation,
  mergeAction,
  openPatchActions,
  type Patch as RadPatch,
  PATCH_TYPE,
  patchLifecycleAction,
  type PatchRevision,
  relatedOf,
  reviewAction,
  reviewCommentAction,
  revisionAction,
  revisionCommentAction,
} from "./patch-cob.ts";
import type { Json } from "./canonical-json.ts";

const WEFT_PATCH = /^Weft-Patch: ([a-z0-9]{8,40})$/m;
/** Weft's bounds on what a patch holds (protocol/patch/ops.ts). */
const MAX_TITLE = 200, MAX_DESCRIPTION = 32_000, MAX_REVIEW_BODY = 16_000, MAX_LINE = 10_000_000;

export interface PatchSyncContext extends SyncContext {
  /** The Weft repository whose patches are mapped. */
  weftRepo: string;
  /** The host's bare copy of it. */
  weftCopy: GitRepo;
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
const weftTitle = (s: string) => clip(neutralized(s.replace(/\s+/g, " ").trim()) || "(untitled patch)", MAX_TITLE);
const radStatus = (p: RadPatch): PatchStatus =>
  p.state.status === "merged" ? "merged" : p.state.status === "archived" ? "closed" : "open";
const sameCommits = (a: { base: string }, aHead: string, b: { base: string }, bHead: string) =>
  a.base === b.base && aHead === bHead;
const VERDICT = { approve: "accept", "request-changes": "reject", comment: undefined } as const;

export async function syncPatches(c: PatchSyncContext): Promise<void> {
  const repo = c.space.repo(c.weftRepo);
  if (!repo) {
    c.warnOnce(`no repo ${c.weftRepo}`, "the Weft repository the radicle bridge maps patches for is not in the space", {
      repo: c.weftRepo,
      create: `weft repo create ${c.weftRepo} --space ${c.space.id}`,
    });
    return;
  }
  const target = `refs/heads/${repo.defaultBranch}`;
  const delegates = await c.repo.delegates();
  const weftPatches = () => new Map(c.space.patches().filter((p) => p.repo === c.weftRepo).map((p) => [p.id, p]));
  let weft = weftPatches();
  const radicle = await loadEvaluated(c, PATCH_TYPE, evaluatePatch, delegates);

  // Radicle patches with no Weft patch yet (or whose Weft patch was made before its link was saved).
  for (const [id, { value: rp, rootMessage, rootAuthor }] of radicle) {
    if (c.links.byRadiclePatch(id)) continue;
    // Only a patch the bridge opened is believed when it names its Weft patch: anyone else's could claim someone's.
    const named = rootAuthor === c.repo.nid ? WEFT_PATCH.exec(rootMessage)?.[1] : undefined;
    const weftId = named && !c.links.byWeftPatch(named) ? named : id;
    if (c.links.byWeftPatch(weftId)) continue; // that Weft patch is another Radicle patch's
    const wp = weft.get(weftId) ??
      (radStatus(rp) === "open" ? await attempt(c, id, () => proposeOnWeft(c, rp, target)) : undefined);
    if (!wp) continue;
    await c.links.putPatch({
      weft: wp.id,
      radicle: id,
      revisions: pairByCommits(wp, rp),
      reviews: [],
      seen: { weft: "open", radicle: "open" },
    });
  }
  weft = weftPatches();
  // Open Weft patches with no Radicle patch yet (the bridge's own came from Radicle: never carried back).
  for (const wp of weft.values()) {
    if (c.links.byWeftPatch(wp.id) || wp.status !== "open" || wp.author === c.did) continue;
    const made = await attempt(c, wp.id, () => openOnRadicle(c, wp));
    if (made) await c.links.putPatch(made);
  }

  const fresh = await loadEvaluated(c, PATCH_TYPE, evaluatePatch, delegates);
  for (const link of c.links.patchLinks()) {
    const rp = fresh.get(link.radicle)?.value;
    if (!weft.has(link.weft) || !rp) continue;
    await attempt(c, link.weft, () => reconcile(c, link, rp, delegates));
  }
}

/** Run one patch's work; a failure is logged once and leaves the other patches to go on. */
async function attempt<T>(c: PatchSyncContext, patch: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (e) {
    c.warnOnce(`patch ${patch} ${messageOf(e)}`, "the radicle bridge could not carry a patch over", {
      patch,
      error: messageOf(e),
    });
    return undefined;
  }
}

function pairByCommits(wp: WeftPatch, rp: RadPatch): [string, string][] {
  const pairs: [string, string][] = [];
  for (const rr of rp.revisions) {
    const wr = wp.revisions.find((w) => sameCommits(w, w.head, rr, rr.oid));
    if (wr) pairs.push([wr.id, rr.id]);
  }
  return pairs;
}

/** Push a Radicle revision's head to the Weft repository, so every member can fetch what it is asked to review. */
async function pushToWeft(c: PatchSyncContext, rr: PatchRevision): Promise<void> {
  await c.weftCopy.fetchCommits(c.repo.git.dir, [rr.base, rr.oid]);
  const ref = `refs/heads/radicle/${rr.id}`;
  const now = c.space.repo(c.weftRepo)?.refs.get(ref)?.commit;
  if (now === rr.oid) return;
  await c.space.perform(Commands.repoPush, {
    repo: c.weftRepo,
    updates: [{ ref, old: now ?? zeroId(rr.oid), new: rr.oid }],
  });
}

async function proposeOnWeft(c: PatchSyncContext, rp: RadPatch, target: string): Promise<WeftPatch> {
  const first = rp.revisions[0];
  await pushToWeft(c, first);
  await c.space.perform(Commands.patchPropose, {
    patch: rp.id,
    repo: c.weftRepo,
    target,
    base: first.base,
    head: first.oid,
    title: weftTitle(rp.title),
    ...(first.description ? { description: clip(first.description, MAX_DESCRIPTION) } : {}),
  });
  c.log.info("made a Weft patch from a Radicle patch", { space: c.space.id, patch: rp.id });
  return c.space.patches().find((p) => p.id === rp.id) as WeftPatch;
}

async function openOnRadicle(c: PatchSyncContext, wp: WeftPatch): Promise<PatchLink> {
  const first = wp.revisions[0];
  await c.repo.git.fetchCommits(c.weftCopy.dir, [first.base, first.head]);
  const actions = openPatchActions(wp.title, first.description, first.base, first.head);
  const id = await c.repo.create(PATCH_TYPE, `Create patch\n\nWeft-Patch: ${wp.id}`, actions, relatedOf(actions));
  await c.repo.setRef(`refs/heads/patches/${id}`, first.head);
  c.log.info("made a Radicle patch from a Weft patch", { space: c.space.id, patch: wp.id, radicle: id });
  return {
    weft: wp.id,
    radicle: id,
    revisions: [[first.id, id]],
    reviews: [],
    seen: { weft: "open", radicle: "open" },
  };
}

async function reconcile(c: PatchSyncContext, link: PatchLink, start: RadPatch, delegates: Set<string>) {
  const nid = c.repo.nid;
  let rp = start;
  const weftPatch = () => c.space.patches().find((p) => p.id === link.weft) as WeftPatch;
  let wp = weftPatch();
  const dropped = () => rp.dropped.map((d) => d.id);
  const write = async (message: string, actions: Json[]) => {
    const id = await c.repo.update(PATCH_TYPE, rp.id, message, actions, {
      related: relatedOf(actions),
      dropped: dropped(),
    });
    rp = evaluatePatch((await c.repo.load(PATCH_TYPE, rp.id)).changes, delegates);
    return id;
  };
  const save = () => c.links.putPatch(link);

  // Revisions, paired by their commits.
  for (const rr of rp.revisions) {
    if (link.revisions.some(([, r]) => r === rr.id)) continue;
    const same = wp.revisions.find((w) => sameCommits(w, w.head, rr, rr.oid));
    if (same) {
      link.revisions.push([same.id, rr.id]);
    } else if (rr.author !== nid && wp.status === "open") {
      if (wp.author !== c.did) {
        c.warnOnce(`revise ${rr.id}`, "a Radicle revision of a patch proposed on Weft is not carried over", {
          patch: wp.id,
          revision: rr.id,
          why: "on Weft only a patch's author may revise it",
        });
        continue;
      }
      await pushToWeft(c, rr);
      const cid = await c.space.perform(Commands.patchRevise, {
        patch: wp.id,
        base: rr.base,
        head: rr.oid,
        ...(rr.description ? { description: clip(rr.description, MAX_DESCRIPTION) } : {}),
      });
      link.revisions.push([cid, rr.id]);
      wp = weftPatch();
    } else continue;
    await save();
  }
  for (const wr of wp.revisions) {
    if (link.revisions.some(([w]) => w === wr.id)) continue;
    const same = rp.revisions.find((r) => sameCommits(r, r.oid, wr, wr.head));
    if (same) {
      link.revisions.push([wr.id, same.id]);
    } else if (wr.author !== c.did && rp.state.status !== "merged") {
      await c.repo.git.fetchCommits(c.weftCopy.dir, [wr.base, wr.head]);
      const id = await write("Add revision", [revisionAction(wr.description, wr.base, wr.head)]);
      await c.repo.setRef(`refs/heads/patches/${rp.id}`, wr.head);
      link.revisions.push([wr.id, id]);
    } else continue;
    await save();
  }
  const radRevision = (weftRevision: string) => link.revisions.find(([w]) => w === weftRevision)?.[1];
  const weftRevision = (radRevision: string) => link.revisions.find(([, r]) => r === radRevision)?.[0];
  const paired = (id: string) => link.reviews.some(([w, r]) => w === id || r === id);

  // Weft reviews → Radicle: a review (one per reviewer per revision there), else a comment; anchored comments on the lines.
  for (const review of wp.reviews) {
    if (paired(review.id) || review.author === c.did || review.signer === c.did) continue;
    const revision = radRevision(review.revision);
    const head = wp.revisions.find((r) => r.id === review.revision)?.head;
    if (!revision || !head) continue;
    const reviewed = rp.reviews.some((r) => r.revision === revision && r.author === nid);
    const id = reviewed
      ? await write("Comment", [revisionCommentAction(revision, reviewText(review))])
      : await write("Review", [reviewAction(revision, VERDICT[review.verdict], review.body || undefined)]);
    for (const anchored of review.comments) {
      const at = lineLocation(head, anchored.path, anchored.line);
      await (reviewed
        ? write("Comment", [revisionCommentAction(revision, anchored.body, undefined, at)])
        : write("Review comment", [reviewCommentAction(id, anchored.body, at)]));
    }
    link.reviews.push([review.id, id]);
    await save();
  }
  // Radicle reviews and comments → Weft reviews with verdict `comment`.
  for (const review of rp.reviews) {
    const revision = weftRevision(review.revision);
    if (!revision) continue;
    const fresh = review.comments.filter((x) => x.author !== nid && !paired(x.id));
    const whole = review.author !== nid && !paired(review.id);
    if (!whole && fresh.length === 0) continue;
    const verdict = review.verdict ?? "no verdict";
    const lead = whole
      ? `Radicle review by ${review.author}: ${verdict}${review.summary ? `\n\n${review.summary}` : ""}`
      : `Radicle review comments on ${review.author}'s review`;
    const cid = await reviewOnWeft(c, wp.id, revision, lead, fresh);
    if (whole) link.reviews.push([cid, review.id]);
    for (const x of fresh) link.reviews.push([cid, x.id]);
    await save();
  }
  for (const comment of rp.comments) {
    const revision = weftRevision(comment.revision);
    if (!revision || comment.author === nid || paired(comment.id)) continue;
    const cid = await reviewOnWeft(c, wp.id, revision, `Radicle comment by ${comment.author}`, [comment]);
    link.reviews.push([cid, comment.id]);
    await save();
  }

  // Open, closed, merged.
  wp = weftPatch();
  const w = wp.status, r = radStatus(rp);
  const mayChange = rp.author === nid || delegates.has(nid);
  if (w !== link.seen.weft) {
    if (w !== r) {
      if (w === "merged" && wp.merge) {
        const revision = radRevision(wp.merge.revision);
        if (!delegates.has(nid)) {
          c.warnOnce(`merge ${wp.id}`, "the bridge may not record a merge on Radicle", {
            patch: wp.id,
            why: "only a delegate of the repository may; add the bridge's node id as a delegate",
            nid,
          });
        } else if (revision) {
          await c.repo.git.fetchCommits(c.weftCopy.dir, [wp.merge.commit]);
          await write("Merge revision", [mergeAction(revision, wp.merge.commit)]);
          await c.repo.setRef(wp.merge.ref, wp.merge.commit);
          link.seen.radicle = "merged";
        }
      } else if (w !== "merged" && mayChange) {
        await write("Lifecycle", [patchLifecycleAction(w === "closed" ? "archived" : "open")]);
        link.seen.radicle = w;
      } else if (w !== "merged") {
        c.warnOnce(`state ${wp.id}`, "the bridge may not change this Radicle patch's state", {
          patch: wp.id,
          why: "only the patch's author or a delegate may; add the bridge's node id as a delegate",
          nid,
        });
      }
    }
    link.seen.weft = w;
  } else if (r !== link.seen.radicle) {
    if (r !== w) {
      if (r === "closed" && w === "open") {
        await c.space.perform(Commands.patchClose, { patch: wp.id, body: "Archived on Radicle" });
      } else if (r === "open" && w === "closed") {
        await c.space.perform(Commands.patchReopen, { patch: wp.id });
      } else if (r === "merged" && w === "open" && rp.state.status === "merged") {
        const { commit } = rp.state;
        const by = rp.merges.at(-1)?.author ?? "a delegate";
        await c.space.perform(Commands.patchClose, {
          patch: wp.id,
          body: `Merged on Radicle by ${by} as ${commit}. A Weft merge needs this space's checks: merge it here too.`,
        });
      }
    }
    link.seen.radicle = r;
    link.seen.weft = weftPatch().status;
  }
  await save();
}

/** A Weft review (verdict `comment`) carrying Radicle comments: those on a line anchored to it, the rest in the body. */
async function reviewOnWeft(
  c: PatchSyncContext,
  patch: string,
  revision: string,
  lead: string,
  comments: {
    author: string;
    body: string;
    location?: { path: string; new?: { start: number }; old?: { start: number } };
  }[],
): Promise<string> {
  const anchored: { path: string; line: number; body: string }[] = [];
  const loose: string[] = [];
  for (const x of comments) {
    const line = x.location?.new?.start ?? x.location?.old?.start ?? 0;
    const body = clip(x.body.trim(), MAX_REVIEW_BODY);
    const fits = line >= 1 && line <= MAX_LINE && anchored.length < MAX_REVIEW_COMMENTS &&
      RUN_PATH.test(x.location?.path ?? "");
    if (x.location && fits && body) {
      anchored.push({ path: x.location.path, line, body });
    } else if (body) {
      const where = x.location ? ` on ${neutralized(x.location.path.slice(0, 256))}:${line}` : "";
      loose.push(`${x.author}${where}: ${body}`);
    }
  }
  return await c.space.perform(Commands.patchReview, {
    patch,
    revision,
    verdict: "comment",
    body: clip([lead, ...loose].join("\n\n"), MAX_REVIEW_BODY),
    ...(anchored.length ? { comments: anchored } : {}),
  });
}

/** A Weft review said as a Radicle comment, when the bridge has reviewed that revision already. */
function reviewText(review: WeftReview): string {
  const verdict = review.verdict === "approve"
    ? "Approved"
    : review.verdict === "request-changes"
    ? "Changes requested"
    : "Commented";
  return `${verdict} on Weft by ${review.author}${review.body ? `:\n\n${review.body}` : ""}`;
}
