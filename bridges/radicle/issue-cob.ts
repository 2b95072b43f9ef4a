/**
 * `xyz.radicle.issue`: heartwood's issue actions (as `cob::issue::Action`
 * serializes them) and the issue they evaluate to. Each action is checked
 * before it is applied; as in heartwood, a change with an invalid or
 * unauthorized action is dropped whole (only the issue's author or a
 * delegate may retitle, relabel, reassign or close it; only a comment's
 * author may edit or redact it).
 */
import type { Json } from "./canonical-json.ts";
import { actionJson, type Change } from "./cob-change.ts";
import { RadicleMalformed } from "./errors.ts";
import { checkOid, nidOf } from "./radicle-ids.ts";

export const ISSUE_TYPE = "xyz.radicle.issue";

export type IssueState = { status: "open" } | { status: "closed"; reason: "other" | "solved" };

export interface IssueComment {
  id: string;
  author: string;
  body: string;
  replyTo?: string;
  timestamp: number;
}

export interface Issue {
  id: string;
  /** The NID of who opened it. */
  author: string;
  title: string;
  /** The body of its root comment. */
  description: string;
  labels: string[];
  assignees: string[];
  state: IssueState;
  /** Comments after the description, in history order (redacted ones left out). */
  comments: IssueComment[];
  /** The last change applied. */
  head: string;
  /** Changes dropped, with why. */
  dropped: { id: string; why: string }[];
}

/** The actions heartwood's `rad issue open` writes: the description comment, then the title (and labels). */
export function openActions(title: string, description: string, labels: string[] = []): Json[] {
  return [
    { type: "comment", body: description },
    { type: "edit", title },
    ...(labels.length ? [{ type: "label", labels: [...new Set(labels)].sort() }] : []),
  ];
}

export const editAction = (title: string): Json => ({ type: "edit", title });
export const labelAction = (labels: string[]): Json => ({ type: "label", labels: [...new Set(labels)].sort() });
export const lifecycleAction = (state: IssueState): Json => ({ type: "lifecycle", state: { ...state } });
export const commentAction = (body: string, replyTo: string): Json => ({ type: "comment", body, replyTo });
export const commentEditAction = (id: string, body: string): Json => ({ type: "comment.edit", id, body, embeds: [] });

const MAX_TEXT = 1024 * 1024;
const LABEL = /^[^\s,]{1,64}$/;

function text(v: unknown, field: string, max = MAX_TEXT): string {
  if (typeof v !== "string" || v.length > max) {
    throw new RadicleMalformed(`issue action ${field}`, "is not a string of bounded length");
  }
  return v;
}

function strings(v: unknown, field: string, check: (s: string) => boolean): string[] {
  if (!Array.isArray(v) || v.length > 256 || !v.every((s) => typeof s === "string" && check(s))) {
    throw new RadicleMalformed(`issue action ${field}`, "is not a list of valid strings");
  }
  return v as string[];
}

function state(v: unknown): IssueState {
  const s = v as { status?: unknown; reason?: unknown } | null;
  if (s?.status === "open") return { status: "open" };
  if (s?.status === "closed" && (s.reason === "other" || s.reason === "solved")) {
    return { status: "closed", reason: s.reason };
  }
  throw new RadicleMalformed("issue action state", "is neither open nor closed with a reason");
}

interface Draft {
  issue: Issue;
  /** Every live comment by id, the root (description) included. */
  all: Map<string, IssueComment>;
}

/** Evaluate an issue from its verified history (repository.ts `load`), as heartwood would. */
export function evaluateIssue(changes: Change[], delegates: Set<string>): Issue {
  const root = changes[0];
  if (!root) throw new RadicleMalformed("issue", "has no root change");
  let draft: Draft = {
    issue: {
      id: root.id,
      author: nidOf(root.signer),
      title: "",
      description: "",
      labels: [],
      assignees: [],
      state: { status: "open" },
      comments: [],
      head: root.id,
      dropped: [],
    },
    all: new Map(),
  };
  const dropped = new Set<string>();
  for (const change of changes) {
    const drop = (why: string) => {
      dropped.add(change.id);
      draft.issue.dropped.push({ id: change.id, why });
    };
    if (change.parents.some((p) => dropped.has(p))) {
      drop("it follows a dropped change");
      continue;
    }
    const next = structuredClone(draft);
    try {
      apply(next, change, delegates);
      next.issue.head = change.id;
      draft = next;
    } catch (e) {
      if (change.id === root.id) throw e;
      drop((e as Error).message);
    }
  }
  const { issue, all } = draft;
  issue.description = all.get(root.id)?.body ?? "";
  issue.comments = [...all.values()].filter((c) => c.id !== root.id);
  return issue;
}

function apply({ issue, all }: Draft, change: Change, delegates: Set<string>): void {
  const who = nidOf(change.signer);
  const isRoot = change.parents.length === 0;
  const may = isRoot || who === issue.author || delegates.has(who);
  const deny = (what: string) => {
    throw new RadicleMalformed(
      `issue change ${change.id}`,
      `${who} may not ${what}: only the issue's author or a delegate may`,
    );
  };
  let commented = false;
  for (let i = 0; i < change.actions.length; i++) {
    const a = actionJson(change, i);
    switch (a.type) {
      case "edit":
        if (!may) deny("retitle it");
        issue.title = text(a.title, "title", 4096);
        break;
      case "label":
        if (!may) deny("relabel it");
        issue.labels = strings(a.labels, "labels", (s) => LABEL.test(s));
        break;
      case "assign":
        if (!may) deny("reassign it");
        issue.assignees = strings(a.assignees, "assignees", (s) => /^did:key:z6Mk/.test(s));
        break;
      case "lifecycle":
        if (!may) deny("close or reopen it");
        issue.state = state(a.state);
        break;
      case "comment": {
        if (commented) {
          throw new RadicleMalformed(`issue change ${change.id}`, "holds two comments (each needs its own change)");
        }
        commented = true;
        const replyTo = a.replyTo === undefined ? undefined : checkOid(a.replyTo, "replyTo");
        if (!isRoot && replyTo === undefined) {
          throw new RadicleMalformed(`issue change ${change.id}`, "a comment after the first must reply to one");
        }
        if (replyTo !== undefined && !all.has(replyTo)) {
          throw new RadicleMalformed(`issue change ${change.id}`, `replies to unknown comment ${replyTo}`);
        }
        all.set(change.id, {
          id: change.id,
          author: who,
          body: text(a.body, "body"),
          replyTo,
          timestamp: change.timestamp,
        });
        break;
      }
      case "comment.edit": {
        const target = all.get(checkOid(a.id, "comment id"));
        if (!target) throw new RadicleMalformed(`issue change ${change.id}`, "edits an unknown comment");
        if (target.author !== who) {
          throw new RadicleMalformed(`issue change ${change.id}`, "edits someone else's comment");
        }
        target.body = text(a.body, "body");
        break;
      }
      case "comment.redact": {
        const id = checkOid(a.id, "comment id");
        const target = all.get(id);
        if (!target || target.author !== who || id === issue.id) {
          throw new RadicleMalformed(`issue change ${change.id}`, "redacts a comment it may not");
        }
        all.delete(id);
        break;
      }
      case "comment.react":
        break;
      default:
        throw new RadicleMalformed(`issue change ${change.id}`, `has unknown action type ${JSON.stringify(a.type)}`);
    }
  }
}
