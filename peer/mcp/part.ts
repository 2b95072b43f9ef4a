/**
 * What the MCP server is made of: parts, each one file that registers its
 * tools or resources on the server (tasks, runs, and — as the code lands —
 * repository files and patches). A part reaches the space only through the
 * principal's own API client, so whatever it does is checked by the peer
 * as that principal's action.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type ErrorCode, isWeftError } from "#protocol";
import type { Principal } from "./principal.ts";

export interface McpPart {
  register(server: McpServer, principal: Principal): void;
}

/** The most characters a tool's answer holds; lists are paged well below it. */
export const MAX_RESULT_CHARS = 256 * 1024;
/** The most items one page of a list holds. */
export const MAX_PAGE = 50;

/** A tool's answer: the value as JSON text and as structured content. */
export function answer(value: Record<string, unknown>): CallToolResult {
  const text = JSON.stringify(value);
  if (text.length > MAX_RESULT_CHARS) {
    return refusal("input/too-large", `the answer holds ${text.length} characters; ask for a smaller page`);
  }
  return { content: [{ type: "text", text }], structuredContent: value };
}

/** A tool error the model can act on: the code and what the peer said to do. */
export function refusal(code: ErrorCode, message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${code}: ${message}` }] };
}

/** Run a tool's work as the principal; a refusal by the peer (or bad input) becomes a tool error, not a crash. */
export async function act(work: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    return answer(await work());
  } catch (e) {
    if (isWeftError(e)) return refusal(e.code, e.message);
    throw e;
  }
}

/** One page of `items` from `cursor` (an offset, as text), with the cursor of the next page if there is one. */
export function page<T>(items: readonly T[], cursor: string | undefined, limit: number) {
  const from = cursor === undefined ? 0 : Number(cursor);
  const slice = items.slice(from, from + limit);
  return { items: slice, ...(from + limit < items.length ? { nextCursor: String(from + limit) } : {}) };
}

/** Comments, results and history a read gives, newest last (the counts say how many there are in all)… */
const RECENT = 20;
/** …and at most this many characters of each list, so a read always fits an answer (a body holds 32,000). */
const RECENT_CHARS = 64 * 1024;

/** The newest of `items`, at most RECENT of them and RECENT_CHARS of JSON. */
export function recent<T>(items: readonly T[]): T[] {
  const out: T[] = [];
  let used = 0;
  for (let i = items.length - 1; i >= 0 && out.length < RECENT; i--) {
    used += JSON.stringify(items[i]).length;
    if (used > RECENT_CHARS) break;
    out.unshift(items[i]);
  }
  return out;
}
