/**
 * Runs: every task in the space that asks for compute, as Nomad's and
 * Kubernetes' dashboards list their jobs — kind, the node holding it,
 * state, start and duration, what it asked for — newest first, filtered by
 * state, with Stop and Re-run on each and a form to start one. The list is
 * read from the replicated task state (protocol/scheduler/pods.ts), so it
 * is the same on every node; a run's log and outputs are on its task page.
 */
import { useMemo, useState } from "preact/hooks";
import { listPods, type Pod, type PodState } from "#protocol/scheduler";
import type { Space } from "#protocol/space";
import type { Task } from "#protocol/tasks";
import { useEvents, useTick } from "../../model/hooks.ts";
import { navigate, spaceHref, taskHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { dateTime, mb, namesOf, who } from "../format.ts";
import { TaskId } from "../task-bits.tsx";
import { RunControls } from "./run-controls.tsx";
import { StartRun } from "./start-run.tsx";

const STATES: PodState[] = ["queued", "claimed", "running", "succeeded", "failed", "review", "cancelled"];
const PAGE = 100;
const POD_CLASS: Record<PodState, string> = {
  queued: "s-open",
  claimed: "s-claimed",
  running: "s-running",
  succeeded: "s-done",
  failed: "s-failed",
  review: "s-review",
  cancelled: "s-cancelled",
};

/** How long a run took, or has been running. */
export function duration(pod: Pod, now: number): string {
  if (pod.startedAt === undefined) return "—";
  const ms = (pod.endedAt ?? now) - pod.startedAt;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function resources(pod: Pod): string {
  const r = pod.resources;
  return [
    r.cpu > 0 ? `${r.cpu} cores` : "",
    mb(r.memoryMb),
    r.gpu > 0 ? `${r.gpu} GPUs` : "",
    `${r.wallMs / 1000} s`,
    ...r.tags,
  ].filter(Boolean).join(", ");
}

export function PodBadge(props: { state: PodState }) {
  return <span class={`status ${POD_CLASS[props.state]}`}>{props.state}</span>;
}

export function RunsView(props: { space: Space; query: URLSearchParams }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  useEvents((fire) => bn.offer.subscribe(fire), [bn]);
  useTick(1000);
  const [shown, setShown] = useState(PAGE);
  const state = STATES.find((s) => s === props.query.get("state"));
  const now = Date.now();
  const scheduler = bn.offer.scheduler;
  const all = listPods(props.space, now, (task) => scheduler?.run(props.space.id, task));
  const pods = state ? all.filter((p) => p.state === state) : all;
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  const total = all.length;
  return (
    <section aria-labelledby="runs-title" class="stack">
      <div class="row spread">
        <h1 id="runs-title">Runs</h1>
        <p class="count" aria-live="polite">{pods.length} of {total}</p>
      </div>
      <StartRun space={props.space} />
      <div class="row wrap">
        <label for="runs-state">State</label>
        <select
          id="runs-state"
          value={state ?? ""}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            navigate(spaceHref(props.space.id, "runs", { state: v }), true);
          }}
        >
          <option value="">any</option>
          {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      {pods.length === 0
        ? <p class="empty">{total === 0 ? "No run in this space yet." : "No run in this state."}</p>
        : (
          <div class="table-wrap">
            <table class="runs">
              <caption class="sr-only">Runs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                  <th scope="col" class="wide">Node</th>
                  <th scope="col" class="wide">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col" class="wide">Resources</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pods.slice(0, shown).map((p) => (
                  <tr key={p.task} data-run={p.task} data-pod-state={p.state}>
                    <td>
                      <TaskId id={p.task} /> <a href={taskHref(props.space.id, p.task)}>{p.title}</a>
                    </td>
                    <td>
                      <span class="tag">{p.runner}</span>
                    </td>
                    <td>
                      <PodBadge state={p.state} />
                      {p.exitCode !== undefined && <span class="hint">{` exit ${p.exitCode}`}</span>}
                    </td>
                    <td class="wide">
                      {p.node ? who(p.node, names, bn.did) : "—"}
                      {p.local && <span class="tag">this tab</span>}
                    </td>
                    <td class="wide">{p.startedAt !== undefined ? dateTime(p.startedAt) : "—"}</td>
                    <td data-duration>{duration(p, now)}</td>
                    <td class="wide">{resources(p)}</td>
                    <td>
                      <RunControls
                        space={props.space}
                        task={props.space.log.reducer.tasks.get(p.task) as Task}
                        state={p.state}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {pods.length > shown && (
        <button type="button" onClick={() => setShown(shown + 2 * PAGE)}>
          Show more ({pods.length - shown} left)
        </button>
      )}
    </section>
  );
}
