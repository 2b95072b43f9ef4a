/**
 * The context pack an agent starts from, within a token budget: the task
 * (title, body, comments — earlier runs' notes among them), the tasks it
 * depends on, the patches that answer it, the repository's file list and
 * the files its words point to (found by search in the working tree), in
 * that order of priority. Tokens are bounded the way the router bounds them
 * (one per UTF-8 byte, llm/cost.ts), so the pack never overruns the window
 * it was sized for; what does not fit is named, not silently dropped.
 */
import { inputTokensBound } from "#protocol/llm";
import type { Space } from "#protocol/space";
import type { Task } from "#protocol/tasks";
import type { Patch } from "#protocol/patch";
import type { Workspace } from "./workspace.ts";

const tokens = (text: string) => inputTokensBound([{ role: "user", content: text }]);

/** Words of the task that may name code: identifiers and paths, longest first. */
function searchTerms(task: Task): string[] {
  const words = `${task.title} ${task.body}`.match(/[A-Za-z_][A-Za-z0-9_./-]{3,}/g) ?? [];
  return [...new Set(words)].sort((a, b) => b.length - a.length).slice(0, 12);
}

/** The pack for `task`, at most `budget` tokens. */
export async function contextPack(
  space: Space,
  task: Task,
  patches: readonly Patch[],
  work: Workspace,
  budget: number,
): Promise<string> {
  const parts: string[] = [];
  let used = 0;
  const left: string[] = [];
  const add = (title: string, text: string) => {
    const section = `## ${title}\n${text}\n`;
    const n = tokens(section);
    if (used + n > budget) return left.push(title), false;
    parts.push(section);
    used += n;
    return true;
  };
  add(`Task ${task.id}: ${task.title}`, task.body || "(no description)");
  for (const c of task.comments.slice(-10)) add(`Comment by ${c.author.slice(0, 24)}…`, c.body);
  for (const dep of task.deps) {
    const d = space.log.reducer.tasks.get(dep);
    if (d) add(`Task it depends on: ${d.title} (${d.status})`, d.body.slice(0, 4000));
  }
  for (const p of patches.filter((p) => p.tasks.includes(task.id))) {
    add(`Patch ${p.id} for this task: ${p.title} (${p.status})`, p.revisions.at(-1)?.description ?? "");
  }
  const files = await work.files();
  add("Repository files", files.slice(0, 500).join("\n"));
  const named = new Set<string>();
  for (const term of searchTerms(task)) {
    for (const hit of await work.search(term).catch(() => [])) named.add(hit.slice(0, hit.indexOf(":")));
  }
  for (const f of files) if (task.body.includes(f) || task.title.includes(f)) named.add(f);
  for (const f of [...named].slice(0, 8)) {
    const text = await work.read(f).catch(() => undefined);
    if (text !== undefined) add(`File ${f}`, text);
  }
  if (left.length > 0) parts.push(`## Left out for space\n${left.join("\n")}\n`);
  return parts.join("\n");
}
