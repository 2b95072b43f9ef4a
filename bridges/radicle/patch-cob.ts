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

export interface PatchReview {
  id: string;
  revision: string;
  author: string;
  verdict?: "accept" | "reject";
  summary?: string;
}

export interface PatchComment {
  id: string;
  revision: string;
  author: string;
  body: string;
  replyTo?: string;
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
export const mergeAction = (revision: string, commit: string): Json => ({ type: "merge", revision, commit });
export const revisionCommentAction = (revision: string, body: string, replyTo?: string): Json => ({
  type: "revision.comment",
  revision,
  body,
  ...(replyTo ? { replyTo } : {}),
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
      case "label":
        if (!may) deny("relabel it");
        if (!Array.isArray(a.labels) || !a.labels.every((l) => typeof l === "string" && /^[^\s,]{1,64}$/.test(l))) {
          throw new RadicleMalformed(where, "labels are not a list of labels");
        }
        patch.labels = [...a.labels as string[]].sort();
        break;
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
          ...(a.summary !== undefined ? { summary: text(a.summary, "summary") } : {}),
        });
        break;
      }
      case "revision.comment": {
        identify();
        const r = revision(a.revision);
        const replyTo = a.replyTo === undefined ? undefined : checkOid(a.replyTo, "replyTo");
        patch.comments.push({
          id: change.id,
          revision: r.id,
          author: who,
          body: text(a.body, "body"),
          ...(replyTo ? { replyTo } : {}),
        });
        break;
      }
      case "assign":
        if (!may) deny("reassign it");
        break;
      case "review.edit":
      case "review.redact":
      case "review.comment":
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
