/**
 * One reconciliation pass between a Weft space's tasks and a Radicle
 * repository's issues. Every task (except compute jobs) has an issue and
 * every issue a task: a new issue becomes a task with the issue's id as its
 * id, a new task an issue whose root change names the task
 * (`Weft-Task: <id>` in its message). For linked pairs, each field (title,
 * body, labels, open/closed) is compared with what the bridge last saw on
 * each side: the side that changed is written to the other, and what the
 * bridge wrote becomes what it saw, so its own writes never come back as
 * changes. Comments are paired by id on both sides.
 */
import type { BridgeLog, BridgeSpace } from "#protocol/bridge";
import type { TaskView } from "#protocol/tasks";
import { LABEL } from "#protocol/tasks";
import {
  commentAction,
  commentEditAction,
  editAction,
  evaluateIssue,
  type Issue,
  ISSUE_TYPE,
  labelAction,
  lifecycleAction,
  openActions,
} from "./issue-cob.ts";
import type { Link, LinkStore, Synced } from "./link-store.ts";
import type { RadicleRepository } from "./repository.ts";
import { loadEvaluated } from "./load-objects.ts";

const TERMINAL = new Set(["done", "failed", "cancelled"]);
const WEFT_TASK = /^Weft-Task: ([a-z0-9]{8,40})$/m;
/** Weft's bounds on what a task holds (protocol/tasks/ops.ts). */
const MAX_TITLE = 200, MAX_BODY = 32_000, MAX_COMMENT = 16_000, MAX_LABELS = 32;

export interface SyncContext {
  repo: RadicleRepository;
  space: BridgeSpace;
  links: LinkStore;
  /** The bridge's DID (its Weft author) and NID (its Radicle author). */
  did: string;
  log: BridgeLog;
  /** Warn once per key. */
  warnOnce(key: string, message: string, fields: Record<string, unknown>): void;
}

const taskFields = (t: TaskView): Synced => ({
  title: t.title,
  body: t.body,
  labels: [...t.labels].sort(),
  closed: TERMINAL.has(t.status),
});

const issueFields = (i: Issue): Synced => ({
  title: i.title,
  body: i.description,
  labels: [...i.labels].sort(),
  closed: i.state.status === "closed",
});

const sameLabels = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
const taskTitle = (s: string) => clip(s.trim() || "(untitled issue)", MAX_TITLE);
const taskLabels = (labels: string[]) => labels.filter((l) => LABEL.test(l)).slice(0, MAX_LABELS);

export async function syncOnce(c: SyncContext): Promise<void> {
  const delegates = await c.repo.delegates();
  const issues = await loadEvaluated(c, ISSUE_TYPE, evaluateIssue, delegates);
  // Issues with no task yet (or whose task was made by the bridge before its link was saved).
  for (const [id, { value: issue, rootMessage, rootAuthor }] of issues) {
    if (c.links.byIssue(id)) continue;
    // Only an issue the bridge opened is believed when it names its task: anyone else's could claim someone's task.
    const named = rootAuthor === c.repo.nid ? WEFT_TASK.exec(rootMessage)?.[1] : undefined;
    const taskId = named && !c.links.byTask(named) ? named : id;
    let task = c.space.task(taskId);
    if (!task) {
      task = await c.space.act("create", {
        task: id,
        title: taskTitle(issue.title),
        body: clip(issue.description, MAX_BODY),
        labels: taskLabels(issue.labels),
      });
      c.log.info("made a task from a Radicle issue", { space: c.space.id, task: task.id, issue: id });
    }
    await c.links.put({
      task: task.id,
      issue: id,
      // Seen as open on both sides: an issue already closed closes its new task in the pass below.
      seen: { task: { ...taskFields(task), closed: false }, issue: { ...issueFields(issue), closed: false } },
      comments: [],
    });
  }
  // Tasks with no issue yet.
  for (const task of c.space.tasks()) {
    if (task.run || c.links.byTask(task.id)) continue;
    const issueId = await c.repo.create(
      ISSUE_TYPE,
      `Create issue\n\nWeft-Task: ${task.id}`,
      openActions(task.title, task.body, task.labels),
    );
    const fields = taskFields(task);
    await c.links.put({
      task: task.id,
      issue: issueId,
      // Seen as open on both sides: a task already finished closes its new issue in the pass below.
      seen: { task: { ...fields, closed: false }, issue: { ...fields, closed: false } },
      comments: [],
    });
    c.log.info("made a Radicle issue from a task", { space: c.space.id, task: task.id, issue: issueId });
  }
  const fresh = await loadEvaluated(c, ISSUE_TYPE, evaluateIssue, delegates);
  const mayEdit = (issue: Issue) => issue.author === c.repo.nid || delegates.has(c.repo.nid);
  for (const link of c.links.links()) {
    const task = c.space.task(link.task);
    const entry = fresh.get(link.issue);
    if (!task || !entry) continue;
    await reconcile(c, link, task, entry.value, mayEdit(entry.value));
  }
}

async function reconcile(
  c: SyncContext,
  link: Link,
  startTask: TaskView,
  issue: Issue,
  mayEditIssue: boolean,
): Promise<void> {
  let task = startTask;
  /** Never build on what the issue's evaluation dropped. */
  const dropped = issue.dropped.map((d) => d.id);
  const t = taskFields(task), i = issueFields(issue), seen = link.seen;
  const bridgeNid = c.repo.nid;
  const issueWrite = async (
    what: string,
    message: string,
    action: Parameters<RadicleRepository["update"]>[3][number],
  ) => {
    if (!mayEditIssue) {
      c.warnOnce(`delegate ${link.issue} ${what}`, "the bridge may not change this issue's " + what, {
        issue: link.issue,
        why: "only the issue's author or a repository delegate may; add the bridge's node id as a delegate",
        nid: bridgeNid,
      });
      return false;
    }
    await c.repo.update(ISSUE_TYPE, link.issue, message, [action], { dropped });
    return true;
  };

  // Title
  if (t.title !== seen.task.title) {
    if (t.title !== i.title && await issueWrite("title", "Edit", editAction(t.title))) seen.issue.title = t.title;
    seen.task.title = t.title;
  } else if (i.title !== seen.issue.title) {
    if (taskTitle(i.title) !== t.title) task = await c.space.act("edit", { task: task.id, title: taskTitle(i.title) });
    seen.issue.title = i.title;
    seen.task.title = task.title;
  }
  // Body ↔ description (the root comment: only its author may edit it)
  if (t.body !== seen.task.body) {
    if (t.body !== i.body) {
      if (issue.author === bridgeNid) {
        await c.repo.update(ISSUE_TYPE, link.issue, "Edit description", [commentEditAction(link.issue, t.body)], {
          dropped,
        });
        seen.issue.body = t.body;
      } else {
        c.warnOnce(`description ${link.issue}`, "the bridge may not edit this issue's description", {
          issue: link.issue,
          why: "only the author of an issue may edit its description",
        });
      }
    }
    seen.task.body = t.body;
  } else if (i.body !== seen.issue.body) {
    const body = clip(i.body, MAX_BODY);
    if (body !== t.body) task = await c.space.act("edit", { task: task.id, body });
    seen.issue.body = i.body;
    seen.task.body = task.body;
  }
  // Labels
  if (!sameLabels(t.labels, seen.task.labels)) {
    if (!sameLabels(t.labels, i.labels) && await issueWrite("labels", "Label", labelAction(t.labels))) {
      seen.issue.labels = t.labels;
    }
    seen.task.labels = t.labels;
  } else if (!sameLabels(i.labels, seen.issue.labels)) {
    const want = taskLabels(i.labels);
    const add = want.filter((l) => !t.labels.includes(l));
    const remove = t.labels.filter((l) => !want.includes(l));
    if (add.length || remove.length) {
      task = await c.space.act("label", {
        task: task.id,
        ...(add.length ? { add } : {}),
        ...(remove.length ? { remove } : {}),
      });
    }
    seen.issue.labels = i.labels;
    seen.task.labels = [...task.labels].sort();
  }
  // Open / closed
  if (t.closed !== seen.task.closed) {
    if (t.closed && !i.closed) {
      const reason = task.status === "done" ? "solved" : "other";
      if (await issueWrite("state", "Lifecycle", lifecycleAction({ status: "closed", reason }))) {
        seen.issue.closed = true;
      }
    }
    seen.task.closed = t.closed;
  } else if (i.closed !== seen.issue.closed) {
    if (i.closed && !t.closed) {
      task = issue.state.status === "closed" && issue.state.reason === "solved"
        ? await c.space.act("close", { task: task.id, outcome: "done" })
        : await c.space.act("cancel", { task: task.id });
    } else if (!i.closed && t.closed) {
      c.warnOnce(`reopen ${link.issue}`, "a reopened Radicle issue cannot reopen its finished task", {
        issue: link.issue,
        task: task.id,
      });
    }
    seen.issue.closed = i.closed;
    seen.task.closed = TERMINAL.has(task.status);
  }
  await c.links.put(link);

  // Comments, paired by id on both sides.
  const pairedTask = new Set(link.comments.map(([tc]) => tc));
  const pairedIssue = new Set(link.comments.map(([, ic]) => ic));
  for (const comment of task.comments) {
    if (pairedTask.has(comment.id)) continue;
    const id = await c.repo.update(ISSUE_TYPE, link.issue, "Comment", [commentAction(comment.body, link.issue)], {
      dropped,
    });
    link.comments.push([comment.id, id]);
    pairedIssue.add(id);
    await c.links.put(link);
  }
  for (const comment of issue.comments) {
    if (pairedIssue.has(comment.id)) continue;
    const known = new Set(task.comments.map((x) => x.id));
    task = await c.space.act("comment", { task: task.id, body: clip(comment.body, MAX_COMMENT) || "(empty)" });
    const made = task.comments.filter((x) => !known.has(x.id) && x.author === c.did).at(-1);
    if (!made) continue;
    link.comments.push([made.id, comment.id]);
    await c.links.put(link);
  }
}
