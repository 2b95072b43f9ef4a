/**
 * MCP tools for runs: list them, read one, and read its log a page at a
 * time — requests of the MCP client's own principal, which the peer
 * answers only if that principal may read the space.
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { act, MAX_PAGE, type McpPart, page } from "./part.ts";
import type { Principal } from "./principal.ts";
import { taskId } from "./task-tools.ts";

const STATES = ["queued", "claimed", "running", "succeeded", "failed", "review", "cancelled"] as const;
/** The most log lines one call gives; a log line's text is cut at LINE_CHARS. */
const MAX_LOG_LINES = 500;
const LINE_CHARS = 2000;

interface LogLine {
  stream?: string;
  at?: number;
  text?: string;
}

export const RUN_TOOLS: McpPart = {
  register(server: McpServer, principal: Principal) {
    const base = `/v1/spaces/${encodeURIComponent(principal.space)}/pods`;

    server.registerTool("list_runs", {
      title: "List runs",
      description: "Runs in the space (any runner kind): node, state, start and end, resources. Paged.",
      inputSchema: {
        state: z.enum(STATES).optional(),
        cursor: z.string().regex(/^\d{1,6}$/).optional(),
        limit: z.number().int().min(1).max(MAX_PAGE).default(20),
      },
      annotations: { readOnlyHint: true },
    }, (a) =>
      act(async () => {
        const q = new URLSearchParams({ limit: String(Number(a.cursor ?? 0) + a.limit + 1) });
        if (a.state) q.set("state", a.state);
        const { pods } = await principal.get<{ pods: Record<string, unknown>[] }>(`${base}?${q}`);
        const p = page(pods, a.cursor, a.limit);
        return { runs: p.items, ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
      }));

    server.registerTool("read_run", {
      title: "Read a run",
      description: "One run: its state, node, times, resources and outputs.",
      inputSchema: { task: taskId },
      annotations: { readOnlyHint: true },
    }, ({ task }) => act(() => principal.get<Record<string, unknown>>(`${base}/${task}`)));

    server.registerTool("read_run_log", {
      title: "Read a run's log",
      description: "A page of a run's log lines so far, from the node running it (or its stored log). " +
        "Pass nextCursor for the lines after.",
      inputSchema: {
        task: taskId,
        cursor: z.string().regex(/^\d{1,7}$/).optional(),
        limit: z.number().int().min(1).max(MAX_LOG_LINES).default(200),
      },
      annotations: { readOnlyHint: true },
    }, ({ task, cursor, limit }) =>
      act(async () => {
        const from = Number(cursor ?? 0);
        const lines: LogLine[] = [];
        let more = false;
        let n = 0;
        // Read only as far as this page (and one line past, to know whether more follow).
        for await (const line of principal.lines<LogLine>(`${base}/${task}/logs`)) {
          if (n++ < from) continue;
          if (lines.length === limit) {
            more = true;
            break;
          }
          lines.push({ ...line, ...(line.text ? { text: line.text.slice(0, LINE_CHARS) } : {}) });
        }
        return { lines, ...(more ? { nextCursor: String(from + limit) } : {}) };
      }));
  },
};
