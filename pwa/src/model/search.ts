/**
 * Finding a task by what people remember of it: words of its title (in any
 * order, each matched at the start of a word, or as letters in order), its
 * id or the start of it, its labels, and what was opened lately here. So
 * "open rel" finds "Release notes" and "#db mig" finds "Build the
 * migration" labelled db. Recent tasks rank first among equal matches and
 * are what an empty query shows.
 */
import type { Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";

const RECENT_KEY = "weft-recent-tasks";
const MAX_RECENT = 20;

/** Tasks opened here lately, newest first (kept in localStorage; anything unreadable there is ignored). */
export function recentTasks(): string[] {
  try {
    const value = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(value)
      ? value.filter((v): v is string => typeof v === "string" && v.length <= 64).slice(0, MAX_RECENT)
      : [];
  } catch {
    return [];
  }
}

export function rememberTask(id: string): void {
  const list = [id, ...recentTasks().filter((t) => t !== id)].slice(0, MAX_RECENT);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Storage full or blocked: search works without recents.
  }
}

/** How well one query word matches one candidate text's words; 0 = not at all. */
function wordScore(q: string, words: readonly string[], whole: string): number {
  if (words.some((w) => w === q)) return 4;
  if (words.some((w) => w.startsWith(q))) return 3;
  if (whole.includes(q)) return 2;
  let i = 0;
  for (const ch of whole) if (ch === q[i]) i++;
  return i === q.length && q.length >= 3 ? 1 : 0;
}

const wordsOf = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

/** How well `query` matches the task (0: it does not); every word of the query must match something. */
export function matchScore(query: string, task: Pick<TaskView, "id" | "title" | "labels">): number {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return 0;
  const title = task.title.toLowerCase();
  const titleWords = wordsOf(task.title);
  const labels = task.labels.map((l) => l.toLowerCase());
  let total = 0;
  for (const raw of words) {
    const label = raw.startsWith("#") ? raw.slice(1) : undefined;
    const q = label ?? raw;
    if (!q) continue;
    const best = Math.max(
      label === undefined ? wordScore(q, titleWords, title) : 0,
      labels.includes(q) ? 4 : labels.some((l) => l.startsWith(q)) ? 3 : 0,
      task.id.startsWith(q) ? 5 : 0,
    );
    if (best === 0) return 0;
    total += best;
  }
  return total;
}

/** The tasks best matching `query`, best first (recent ones first among equals); an empty query: the recent ones. */
export function searchTasks(space: Space, query: string, limit = 8): TaskView[] {
  const recent = recentTasks();
  const rank = (id: string) => {
    const i = recent.indexOf(id);
    return i < 0 ? MAX_RECENT : i;
  };
  if (!query.trim()) {
    return recent.map((id) => space.task(id)).filter((t): t is TaskView => t !== undefined).slice(0, limit);
  }
  const hits: { id: string; score: number }[] = [];
  for (const task of space.log.reducer.tasks.values()) {
    const score = matchScore(query, task);
    if (score > 0) hits.push({ id: task.id, score });
  }
  hits.sort((a, b) => b.score - a.score || rank(a.id) - rank(b.id) || (a.id < b.id ? -1 : 1));
  return hits.slice(0, limit).map((h) => space.task(h.id)).filter((t): t is TaskView => t !== undefined);
}
