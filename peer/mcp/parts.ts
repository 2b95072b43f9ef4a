/**
 * The parts `weft mcp` serves, in order. Adding a family of tools or
 * resources (repository files, patches) is one file exporting an McpPart
 * and one line here.
 */
import type { McpPart } from "./part.ts";
import { TASK_TOOLS } from "./task-tools.ts";
import { RUN_TOOLS } from "./run-tools.ts";
import { TASK_RESOURCES } from "./task-resources.ts";
import { REPO_TOOLS } from "./repo-tools.ts";
import { PATCH_TOOLS } from "./patch-tools.ts";

export const MCP_PARTS: readonly McpPart[] = [TASK_TOOLS, RUN_TOOLS, REPO_TOOLS, PATCH_TOOLS, TASK_RESOURCES];
