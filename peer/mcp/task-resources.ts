/**
 * Tasks as MCP resources (`weft://space/<space DID>/tasks/<id>`, JSON): what a client
 * can attach as context. Listed newest first, a bounded number; read as
 * the MCP client's own principal.
 */
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { TASK_ID, type TaskView } from "#protocol/tasks";
import { WeftError } from "#protocol";
import type { McpPart } from "./part.ts";
import type { Principal } from "./principal.ts";
import { detail } from "./task-tools.ts";

/** The most tasks a resource listing names (search_tasks pages through all of them). */
const MAX_LISTED = 200;

export const TASK_RESOURCES: McpPart = {
  register(server: McpServer, principal: Principal) {
    const base = `/v1/spaces/${encodeURIComponent(principal.space)}/tasks`;
    const uri = (id: string) => `weft://space/${principal.space}/tasks/${id}`;
    server.registerResource(
      "task",
      new ResourceTemplate(`weft://space/${principal.space}/tasks/{id}`, {
        list: async () => {
          const { tasks } = await principal.get<{ tasks: TaskView[] }>(`${base}?limit=${MAX_LISTED}`);
          return {
            resources: tasks.map((t) => ({ uri: uri(t.id), name: t.title, mimeType: "application/json" })),
          };
        },
      }),
      { title: "Task", description: "A task of the space, as JSON", mimeType: "application/json" },
      async (u, { id }) => {
        if (typeof id !== "string" || !TASK_ID.test(id)) {
          throw new WeftError("McpResource", "input/task", `${u.href} names no task id`);
        }
        const t = await principal.get<TaskView>(`${base}/${id}`);
        return { contents: [{ uri: uri(t.id), mimeType: "application/json", text: JSON.stringify(detail(t)) }] };
      },
    );
  },
};
