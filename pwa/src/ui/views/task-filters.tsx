/**
 * The task list's filters, kept in the URL (so a filtered view can be
 * linked, and survives a reload): status, label, assignee, runnable only,
 * and text in the title.
 */
import type { Space } from "#protocol/space";
import type { TaskFilter, TaskStatus, TaskView } from "#protocol/tasks";
import { navigate, spaceHref } from "../../model/route.ts";
import { useApp } from "../context.ts";
import { namesOf, who } from "../format.ts";
import { STATUSES } from "../../model/task-row.ts";

export interface Filters {
  status: string;
  label: string;
  /** "", "me", "none" or a DID. */
  assignee: string;
  runnable: boolean;
  q: string;
}

export function readFilters(query: URLSearchParams): Filters {
  return {
    status: query.get("status") ?? "",
    label: query.get("label") ?? "",
    assignee: query.get("assignee") ?? "",
    runnable: query.get("runnable") === "1",
    q: query.get("q") ?? "",
  };
}

/** The tasks matching the filters, newest first. */
export function filterTasks(space: Space, f: Filters, me: string): TaskView[] {
  const filter: TaskFilter = {
    ...(f.status ? { status: f.status as TaskStatus } : {}),
    ...(f.label ? { labels: [f.label] } : {}),
    ...(f.assignee && f.assignee !== "none" ? { assignee: f.assignee === "me" ? me : f.assignee } : {}),
    ...(f.runnable ? { runnable: true } : {}),
    ...(f.q ? { text: f.q } : {}),
  };
  const hits = space.tasks(filter);
  return (f.assignee === "none" ? hits.filter((t) => t.assignee === undefined) : hits).reverse();
}

export function TaskFilters(props: { space: Space; filters: Filters }) {
  const { bn } = useApp();
  const { space, filters } = props;
  const set = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    navigate(
      spaceHref(space.id, "tasks", {
        status: next.status,
        label: next.label,
        assignee: next.assignee,
        runnable: next.runnable ? "1" : "",
        q: next.q,
      }),
      true,
    );
  };
  const labels = new Set<string>();
  const assignees = new Set<string>();
  for (const t of space.log.reducer.tasks.values()) {
    for (const l of t.labels) labels.add(l);
    if (t.assignee) assignees.add(t.assignee);
  }
  const names = namesOf(space);
  return (
    <form class="filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
      <label>
        <span>Search</span>
        <input type="search" value={filters.q} onInput={(e) => set({ q: (e.target as HTMLInputElement).value })} />
      </label>
      <label>
        <span>Status</span>
        <select value={filters.status} onChange={(e) => set({ status: (e.target as HTMLSelectElement).value })}>
          <option value="">any</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <label>
        <span>Label</span>
        <select value={filters.label} onChange={(e) => set({ label: (e.target as HTMLSelectElement).value })}>
          <option value="">any</option>
          {[...labels].sort().map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
      </label>
      <label>
        <span>Assignee</span>
        <select value={filters.assignee} onChange={(e) => set({ assignee: (e.target as HTMLSelectElement).value })}>
          <option value="">anyone</option>
          <option value="me">me</option>
          <option value="none">unassigned</option>
          {[...assignees].filter((d) => d !== bn.did).map((d) => (
            <option key={d} value={d}>{who(d, names, bn.did)}</option>
          ))}
        </select>
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={filters.runnable}
          onChange={(e) => set({ runnable: (e.target as HTMLInputElement).checked })}
        />
        <span>runnable now</span>
      </label>
    </form>
  );
}
