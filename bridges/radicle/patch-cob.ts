/**
 * `xyz.radicle.patch`: heartwood's patch actions (as `cob::patch::Action`
 * serializes them) and the patch they evaluate to: revisions (each names
 * its base and head commits, which the change lists as related parents),
 * reviews with verdicts, revision comments, labels, lifecycle and merges.
 * As with issues, a change with an invalid or unauthorized action is
 * dropped whole: only the patch's author or a delegate may retitle,
 * relabel or change its state; only a delegate may record a merge; only a
 * revision's author may edit it; one review per reviewer per revision.
 */
import type { Json } from "./canonical-json.ts";
import { actionJson, type Change } from "./cob-change.ts";
import { RadicleMalformed } from "./errors.ts";
import { checkOid, nidOf } from "./radicle-ids.ts";

export const PATCH_TYPE = "xyz.radicle.patch";

export interface PatchRevision {
  /** The id of the change that made it (the patch id, for the first). */
  id: string;
  author: string;
  description: string;
  base: string;
  oid: string;
  timestamp: number;
}

/** Lines `start` up to (not including) `end`, counting from 1, as heartwood's `CodeRange::Lines`. */
export interface LineRange {
  start: number;
  end: number;
}

/** Where a comment points in the code (heartwood's `CodeLocation`, character ranges read as their line). */
export interface CodeLocation {
  commit: string;
  path: string;
  /** On the file before the change (absent for an added file). */
  old?: LineRange;
  /** On the file after the change (absent for a deleted file). */
  new?: LineRange;
}

export interface ReviewComment {
  id: string;
  author: string;
  body: string;
  location?: CodeLocation;
  replyTo?: string;
}

export interface PatchReview {
  id: string;
  revision: string;
  author: string;
  verdict?: "accept" | "reject";
  summary?: string;
  /** Its comments (`review.comment`), anchored to code where they say where. */
  comments: ReviewComment[];
}

export interface PatchComment {
  id: string;
  revision: string;
  author: string;
  body: string;
  replyTo?: string;
  location?: CodeLocation;
}

export interface Patch {
  id: string;
  author: string;
  title: string;
  target: "delegates";
  labels: string[];
  state: { status: "open" | "draft" | "archived" } | { status: "merged"; revision: string; commit: string };
  revisions: PatchRevision[];
  reviews: PatchReview[];
  comments: PatchComment[];
  merges: { revision: string; commit: string; author: string }[];
  dropped: { id: string; why: string }[];
}

/** What `git push rad HEAD:refs/patches` writes: the first revision, then the title. Its related objects are base and head. */
export function openPatchActions(title: string, description: string, base: string, oid: string): Json[] {
  return [
    { type: "revision", description, base: checkOid(base, "base"), oid: checkOid(oid, "head") },
    { type: "edit", title, target: "delegates" },
  ];
}

export const revisionAction = (description: string, base: string, oid: string): Json => ({
  type: "revision",
  description,
  base: checkOid(base, "base"),
  oid: checkOid(oid, "head"),
});
export const reviewAction = (revision: string, verdict?: "accept" | "reject", summary?: string): Json => ({
  type: "review",
  revision,
  ...(summary !== undefined ? { summary } : {}),
  ...(verdict !== undefined ? { verdict } : {}),
});
/** A patch's state as `Action::Lifecycle` writes it (merged is no lifecycle: a merge makes it). */
export const patchLifecycleAction = (status: "open" | "draft" | "archived"): Json => ({
  type: "lifecycle",
  state: { status },
});
export const mergeAction = (revision: string, commit: string): Json => ({ type: "merge", revision, commit });
export const revisionCommentAction = (
  revision: string,
  body: string,
  replyTo?: string,
  location?: CodeLocation,
): Json => ({
  type: "revision.comment",
  revision,
  body,
  ...(replyTo ? { replyTo } : {}),
  ...(location ? { location: locationJson(location) } : {}),
});
/**
 * A comment in a review (the review's id is the change that made it). Heartwood's
 * `review.comment` names its reply field `reply_to` (the variant has no camelCase rename).
 */
export const reviewCommentAction = (
  review: string,
  body: string,
  location?: CodeLocation,
  replyTo?: string,
): Json => ({
  type: "review.comment",
  review,
  body,
  ...(location ? { location: locationJson(location) } : {}),
  ...(replyTo ? { reply_to: replyTo } : {}),
});

/** A location as heartwood serializes it: both sides always present, `null` when absent. */
function locationJson(l: CodeLocation): Json {
  const range = (r?: LineRange) => r ? { type: "lines", range: { start: r.start, end: r.end } } : null;
  return { commit: checkOid(l.commit, "location commit"), path: l.path, old: range(l.old), new: range(l.new) };
}

/** The location of one line of the file after the change, as a review in heartwood's CLI writes it. */
export const lineLocation = (commit: string, path: string, line: number): CodeLocation => ({
  commit,
  path,
  new: { start: line, end: line + 1 },
});
/** The commits a change with these actions must list as related (`CobAction::parents`). */
export function relatedOf(actions: Json[]): string[] {
  const out: string[] = [];
  for (const a of actions as Record<string, unknown>[]) {
    if (a.type === "revision") out.push(String(a.base), String(a.oid));
    if (a.type === "merge") out.push(String(a.commit));
  }
  return out;
}

const MAX_TEXT = 1024 * 1024;
const text = (v: unknown, field: string) => {
  if (typeof v !== "string" || v.length > MAX_TEXT) {
    throw new RadicleMalformed(`patch action ${field}`, "is not a string of bounded length");
  }
  return v;
};

const MAX_LINE = 100_000_000;
const lineNumber = (v: unknown, field: string) => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > MAX_LINE) {
    throw new RadicleMalformed(`code location ${field}`, "is not a line number");
  }
  return v;
};

/** A `CodeRange` read as lines: `lines` as is, `chars` as the one line it is on. */
function lineRange(v: unknown, field: string): LineRange | undefined {
  if (v === null || v === undefined) return undefined;
  const r = v as { type?: unknown; line?: unknown; range?: { start?: unknown; end?: unknown } };
  if (r.type === "chars") {
    const line = lineNumber(r.line, `${field}.line`);
    return { start: line, end: line + 1 };
  }
  if (r.type !== "lines" || typeof r.range !== "object" || r.range === null) {
    throw new RadicleMalformed(`code location ${field}`, "is not a line or character range");
  }
  const start = lineNumber(r.range.start, `${field}.start`), end = lineNumber(r.range.end, `${field}.end`);
  if (end < start) throw new RadicleMalformed(`code location ${field}`, "ends before it starts");
  return { start, end };
}

/** A comment's `location`, checked; undefined when it has none. */
function codeLocation(v: unknown): CodeLocation | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw new RadicleMalformed("code location", "is not an object");
  const l = v as Record<string, unknown>;
  if (typeof l.path !== "string" || l.path.length === 0 || l.path.length > 4096) {
    throw new RadicleMalformed("code location path", "is not a path of bounded length");
  }
  const old = lineRange(l.old, "old"), next = lineRange(l.new, "new");
  return {
    commit: checkOid(l.commit, "location commit"),
    path: l.path,
    ...(old ? { old } : {}),
    ...(next ? { new: next } : {}),
  };
}

interface Draft {
  patch: Patch;
}

export function evaluatePatch(changes: Change[], delegates: Set<string>): Patch {
  const root = changes[0];
  if (!root) throw new RadicleMalformed("patch", "has no root change");
  let draft: Draft = {
    patch: {
      id: root.id,
      author: nidOf(root.signer),
      title: "",
      target: "delegates",
      labels: [],
      state: { status: "open" },
      revisions: [],
      reviews: [],
      comments: [],
      merges: [],
      dropped: [],
    },
  };
  const dropped = new Set<string>();
  for (const change of changes) {
    const drop = (why: string) => {
      dropped.add(change.id);
      draft.patch.dropped.push({ id: change.id, why });
    };
    if (change.parents.some((p) => dropped.has(p))) {
      drop("it follows a dropped change");
      continue;
    }
    const next = structuredClone(draft);
    try {
      apply(next.patch, change, delegates);
      draft = next;
    } catch (e) {
      if (change.id === root.id) throw e;
      drop((e as Error).message);
    }
  }
  return draft.patch;
}

function apply(patch: Patch, change: Change, delegates: Set<string>): void {
  const who = nidOf(change.signer);
  const isRoot = change.parents.length === 0;
  const where = `patch change ${change.id}`;
  const may = isRoot || who === patch.author || delegates.has(who);
  const deny = (what: string, whom = "the patch's author or a delegate") => {
    throw new RadicleMalformed(where, `${who} may not ${what}: only ${whom} may`);
  };
  const revision = (id: unknown) => {
    const r = patch.revisions.find((x) => x.id === checkOid(id, "revision id"));
    if (!r) throw new RadicleMalformed(where, `names unknown revision ${String(id)}`);
    return r;
  };
  let identified = false;
  const identify = () => {
    if (identified) throw new RadicleMalformed(where, "holds two actions that each need their own change");
    identified = true;
  };
  for (let i = 0; i < change.actions.length; i++) {
    const a = actionJson(change, i);
    switch (a.type) {
      case "revision": {
        identify();
        const base = checkOid(a.base, "base"), oid = checkOid(a.oid, "head");
        if (!change.related.includes(base) || !change.related.includes(oid)) {
          throw new RadicleMalformed(where, "a revision's base and head must be the change's related commits");
        }
        patch.revisions.push({
          id: change.id,
          author: who,
          description: text(a.description, "description"),
          base,
          oid,
          timestamp: change.timestamp,
        });
        break;
      }
      case "revision.edit": {
        const r = revision(a.revision);
        if (r.author !== who) deny("edit this revision", "its author");
        r.description = text(a.description, "description");
        break;
      }
      case "edit":
        if (!may) deny("retitle it");
        if (a.target !== "delegates") throw new RadicleMalformed(where, "targets something other than the delegates");
        patch.title = text(a.title, "title");
        break;
      case "label": {
        if (!Array.isArray(a.labels) || !a.labels.every((l) => typeof l === "string" && /^[^\s,]{1,64}$/.test(l))) {
          throw new RadicleMalformed(where, "labels are not a list of labels");
        }
        const labels = [...new Set(a.labels as string[])].sort();
        // Heartwood lets only delegates relabel a patch (a change to the same labels passes, for old clients).
        const same = labels.length === patch.labels.length && labels.every((l, n) => l === patch.labels[n]);
        if (!isRoot && !same && !delegates.has(who)) deny("relabel it", "a delegate");
        patch.labels = labels;
        break;
      }
      case "lifecycle": {
        if (!may) deny("change its state");
        const status = (a.state as { status?: unknown } | null)?.status;
        if (status !== "open" && status !== "draft" && status !== "archived") {
          throw new RadicleMalformed(where, "sets an unknown state");
        }
        if (patch.state.status === "merged") throw new RadicleMalformed(where, "changes the state of a merged patch");
        patch.state = { status };
        break;
      }
      case "merge": {
        if (!delegates.has(who)) deny("merge it", "a delegate");
        const r = revision(a.revision);
        const commit = checkOid(a.commit, "merge commit");
        if (!change.related.includes(commit)) {
          throw new RadicleMalformed(where, "a merge's commit must be a related commit");
        }
        patch.merges.push({ revision: r.id, commit, author: who });
        patch.state = { status: "merged", revision: r.id, commit };
        break;
      }
      case "review": {
        identify();
        const r = revision(a.revision);
        if (patch.reviews.some((x) => x.revision === r.id && x.author === who)) {
          throw new RadicleMalformed(where, `${who} already reviewed this revision`);
        }
        if (a.verdict !== undefined && a.verdict !== "accept" && a.verdict !== "reject") {
          throw new RadicleMalformed(where, "has an unknown verdict");
        }
        patch.reviews.push({
          id: change.id,
          revision: r.id,
          author: who,
          ...(a.verdict ? { verdict: a.verdict as "accept" | "reject" } : {}),
          ...(a.summary !== undefined && a.summary !== null ? { summary: text(a.summary, "summary") } : {}),
          comments: [],
        });
        break;
      }
      case "review.comment": {
        // Anyone may comment in a review (heartwood authorizes it for all).
        identify();
        const review = patch.reviews.find((x) => x.id === checkOid(a.review, "review id"));
        if (!review) throw new RadicleMalformed(where, `names unknown review ${String(a.review)}`);
        const replyTo = a.reply_to === undefined || a.reply_to === null ? undefined : checkOid(a.reply_to, "reply_to");
        if (replyTo && !review.comments.some((c) => c.id === replyTo)) {
          throw new RadicleMalformed(where, `replies to unknown review comment ${replyTo}`);
        }
        const location = codeLocation(a.location);
        review.comments.push({
          id: change.id,
          author: who,
          body: text(a.body, "body"),
          ...(location ? { location } : {}),
          ...(replyTo ? { replyTo } : {}),
        });
        break;
      }
      case "revision.comment": {
        identify();
        const r = revision(a.revision);
        const replyTo = a.replyTo === undefined ? undefined : checkOid(a.replyTo, "replyTo");
        const location = codeLocation(a.location);
        patch.comments.push({
          id: change.id,
          revision: r.id,
          author: who,
          body: text(a.body, "body"),
          ...(replyTo ? { replyTo } : {}),
          ...(location ? { location } : {}),
        });
        break;
      }
      case "assign":
        if (!isRoot && !delegates.has(who)) deny("reassign it", "a delegate");
        break;
      case "review.edit":
      case "review.redact":
      case "review.comment.edit":
      case "review.comment.redact":
      case "review.comment.react":
      case "review.comment.resolve":
      case "review.comment.unresolve":
      case "revision.react":
      case "revision.redact":
      case "revision.comment.edit":
      case "revision.comment.redact":
      case "revision.comment.react":
        // Heartwood actions the bridge reads past: they carry nothing it maps.
        break;
      default:
        throw new RadicleMalformed(where, `has unknown action type ${JSON.stringify(a.type)}`);
    }
  }
}
