/**
 * The loop's tool protocol, as the model sees it and as its answers are
 * read. The router speaks plain chat text to every provider (OpenAI-
 * compatible servers, Anthropic), so tools are a text contract any model
 * can follow: each answer is one JSON object naming a tool and its
 * arguments, alone or in a ```json fence. An answer is read once, bounded,
 * and checked field by field; anything else is told back to the model as
 * the error it made, not executed.
 */
import { WeftError } from "#protocol";

export type ToolCall =
  | { tool: "list_files" }
  | { tool: "read_file"; path: string }
  | { tool: "search"; query: string }
  | { tool: "write_file"; path: string; content: string }
  | { tool: "replace_in_file"; path: string; old: string; new: string }
  | { tool: "run_tests" }
  | { tool: "finish"; summary: string }
  | { tool: "give_up"; reason: string };

/** What the system prompt says of each tool. */
export const TOOL_HELP = [
  '{"tool":"list_files"} — every file of the repository',
  '{"tool":"read_file","path":"src/x.js"} — a file\'s text',
  '{"tool":"search","query":"text"} — lines containing the text, as path:line:text',
  '{"tool":"write_file","path":"src/x.js","content":"…"} — replace a whole file (or make a new one)',
  '{"tool":"replace_in_file","path":"src/x.js","old":"exact text","new":"replacement"} — change one exact occurrence',
  '{"tool":"run_tests"} — run the repository\'s tests on the tree as it is now, in a sandbox; you see the result and log',
  '{"tool":"finish","summary":"what you changed and why"} — done: only after run_tests passed on the tree as it is',
  '{"tool":"give_up","reason":"…"} — stop without a patch, saying why',
].join("\n");

const STRINGS: Record<ToolCall["tool"], string[]> = {
  list_files: [],
  read_file: ["path"],
  search: ["query"],
  write_file: ["path", "content"],
  replace_in_file: ["path", "old", "new"],
  run_tests: [],
  finish: ["summary"],
  give_up: ["reason"],
};

const bad = (why: string) =>
  new WeftError("AgentTool", "input/invalid", `${why}. Answer with exactly one JSON object, e.g. {"tool":"run_tests"}`);

/** The one tool call in a model's answer; throws (input/invalid) saying what is wrong with it. */
export function parseToolCall(answer: string): ToolCall {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(answer);
  const text = (fenced ? fenced[1] : answer).trim();
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) throw bad("No JSON object in the answer");
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch {
    throw bad("The answer's JSON does not parse");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw bad("The answer is not a JSON object");
  const v = value as Record<string, unknown>;
  const tool = v.tool;
  if (typeof tool !== "string" || !Object.hasOwn(STRINGS, tool)) {
    throw bad(`Unknown tool ${JSON.stringify(tool)}; the tools are ${Object.keys(STRINGS).join(", ")}`);
  }
  for (const field of STRINGS[tool as ToolCall["tool"]]) {
    if (typeof v[field] !== "string") throw bad(`${tool} needs "${field}" as a string`);
  }
  return v as unknown as ToolCall;
}

/** A tool call as one line for the transcript and the failure comment. */
export function describeCall(call: ToolCall): string {
  switch (call.tool) {
    case "read_file":
    case "write_file":
    case "replace_in_file":
      return `${call.tool} ${call.path}`;
    case "search":
      return `search ${JSON.stringify(call.query.slice(0, 60))}`;
    default:
      return call.tool;
  }
}
