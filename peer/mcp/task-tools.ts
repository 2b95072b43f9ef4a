/**
 * MCP tools for tasks: search and read them, create, comment, claim and
 * release —
 * each a request or a signed operation of the MCP client's own principal,
 * which the peer checks against that principal's delegation. Inputs are
 * checked by schema and bounded before anything is sent; lists are paged.
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WeftError } from "#protocol";
import { newTaskId } from "#protocol/space";
import { LABEL, MAX_LEASE_MS, TASK_ID, type TaskView } from "#protocol/tasks";
import { act, MAX_PAGE, type McpPart, page, recent } from "./part.ts";
import type { Principal } from "./principal.ts";

const STATUS = ["open", "claimed", "running", "review", "done", "failed", "cancelled"] as const;
export const taskId = z.string().regex(TASK_ID).describe("a task id, as search_tasks gives it");
const label = z.string().regex(LABEL);
const cursor = z.string().regex(/^\d{1,6}$/).optional().describe("nextCursor of the previous page");

/** What a list shows of a task: enough to choose one, not its body. */
export function summary(t: TaskView) {
  return {
    id: t.id,
    title: t.title,
    status: t.effectiveStatus,
    labels: t.labels,
    deps: t.deps,
    runnable: t.runnable,
    ...(t.assignee ? { assignee: t.assignee } : {}),
    creator: t.creator,
  };
}

/** One task, with its most recent comments and history (bounded). */
export function detail(t: TaskView) {
  return {
    ...summary(t),
    body: t.body,
    review: t.review,
    fence: t.fence,
    ...(t.lease ? { lease: t.lease } : {}),
    results: recent(t.results),
    comments: recent(t.comments),
    commentCount: t.comments.length,
    history: recent(t.history),
    historyCount: t.history.length,
  };
}

export const TASK_TOOLS: McpPart = {
  register(server: McpServer, principal: Principal) {
    const base = `/v1/spaces/${encodeURIComponent(principal.space)}/tasks`;
    const read = (id: string) => principal.get<TaskView>(`${base}/${id}`);

    server.registerTool("search_tasks", {
      title: "Search tasks",
      description: "Find tasks in the space by words in the title, status, label, assignee or runnability. " +
        "Answers a page of summaries; pass nextCursor for the next page.",
      inputSchema: {
        text: z.string().min(1).max(200).optional(),
        status: z.enum(STATUS).optional(),
        label: label.optional(),
        assignee: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/).optional(),
        runnable: z.boolean().optional(),
        cursor,
        limit: z.number().int().min(1).max(MAX_PAGE).default(20),
      },
      annotations: { readOnlyHint: true },
    }, (a) =>
      act(async () => {
        const q = new URLSearchParams();
        for (const k of ["text", "status", "label", "assignee"] as const) if (a[k] !== undefined) q.set(k, a[k]!);
        if (a.runnable !== undefined) q.set("runnable", String(a.runnable));
        // The API pages by count from the start: ask for one past this page to know whether another follows.
        q.set("limit", String(Number(a.cursor ?? 0) + a.limit + 1));
        const { tasks } = await principal.get<{ tasks: TaskView[] }>(`${base}?${q}`);
        const p = page(tasks, a.cursor, a.limit);
        return { tasks: p.items.map(summary), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
      }));

    server.registerTool("read_task", {
      title: "Read a task",
      description: "One task: body, labels, dependencies, lease, results, recent comments and history.",
      inputSchema: { task: taskId },
      annotations: { readOnlyHint: true },
    }, ({ task }) => act(async () => detail(await read(task))));

    server.registerTool("create_task", {
      title: "Create a task",
      description: "File a new task in the space, signed by you.",
      inputSchema: {
        title: z.string().min(1).max(200),
        body: z.string().max(32_000).optional(),
        labels: z.array(label).max(32).optional(),
        deps: z.array(taskId).max(64).optional(),
      },
    }, (a) =>
      act(async () =>
        summary(
          await principal.op("create", {
            task: newTaskId(),
            title: a.title,
            ...(a.body ? { body: a.body } : {}),
            ...(a.labels?.length ? { labels: a.labels } : {}),
            ...(a.deps?.length ? { deps: a.deps } : {}),
          }),
        )
      ));

    server.registerTool("comment_task", {
      title: "Comment on a task",
      description: "Add a comment to a task, signed by you.",
      inputSchema: { task: taskId, body: z.string().min(1).max(16_000) },
    }, ({ task, body }) =>
      act(async () => {
        const t = await principal.op("comment", { task, body });
        return { id: t.id, commentCount: t.comments.length };
      }));

    server.registerTool("claim_task", {
      title: "Claim a task",
      description: "Take a lease on an open task (renew it before it lapses, or it is open to others again).",
      inputSchema: {
        task: taskId,
        leaseSeconds: z.number().int().min(10).max(MAX_LEASE_MS / 1000).default(600),
      },
    }, ({ task, leaseSeconds }) =>
      act(async () => {
        const current = await read(task);
        const t = await principal.op("claim", {
          task,
          fence: current.fence + 1,
          expires: Date.now() + leaseSeconds * 1000,
        });
        return { id: t.id, status: t.effectiveStatus, ...(t.lease ? { lease: t.lease } : {}) };
      }));

    server.registerTool("release_task", {
      title: "Release a task",
      description: "Give back a task you claimed, so others may take it (say why in a comment first).",
      inputSchema: { task: taskId },
    }, ({ task }) =>
      act(async () => {
        const current = await read(task);
        if (!current.lease) {
          throw new WeftError("McpTool", "task/conflict", `task ${task} is not claimed (it is ${current.status})`);
        }
        const t = await principal.op("release", { task, fence: current.lease.fence });
        return { id: t.id, status: t.effectiveStatus };
      }));
  },
};
