/**
 * The dependency graph: tasks that wait on others, left to right (a task
 * sits right of what it depends on), coloured by state. Every box is a
 * link, so the graph is walked with the keyboard like any list.
 */
import { useMemo } from "preact/hooks";
import type { Space } from "#protocol/space";
import { layoutGraph, type PlacedTask } from "../../model/graph-layout.ts";
import { taskHref } from "../../model/route.ts";
import { shortId } from "../../model/task-ref.ts";
import { useSpace } from "../context.ts";

const W = 180;
const H = 44;
const GAP_X = 70;
const GAP_Y = 18;
const x = (p: PlacedTask) => p.layer * (W + GAP_X) + 10;
const y = (p: PlacedTask) => p.row * (H + GAP_Y) + 10;

export function Graph(props: { space: Space }) {
  const version = useSpace(props.space);
  const g = useMemo(() => layoutGraph(props.space.tasks()), [props.space, version]);
  const width = g.layers * (W + GAP_X) - GAP_X + 20;
  const height = g.rows * (H + GAP_Y) - GAP_Y + 20;
  return (
    <section aria-labelledby="graph-title" class="stack">
      <h1 id="graph-title">Dependency graph</h1>
      {g.nodes.length === 0
        ? (
          <p class="empty">
            No task depends on another yet. Add a dependency on a task's page, or with{" "}
            <code>
              dep &lt;task&gt; on &lt;task&gt;
            </code>{" "}
            in the command bar.
          </p>
        )
        : (
          <>
            <p class="hint">
              {g.nodes.length} tasks, {g.edges.length}{" "}
              dependencies; arrows point from a task to the one waiting for it.{g.omitted > 0
                ? ` ${g.omitted} older tasks in dependencies are left out.`
                : ""}
            </p>
            <div class="graph-wrap">
              <svg
                width={width}
                height={height}
                viewBox={`0 0 ${width} ${height}`}
                role="group"
                aria-label="Tasks and their dependencies"
              >
                <defs>
                  <marker
                    id="arrow"
                    viewBox="0 0 10 10"
                    refX="9"
                    refY="5"
                    markerWidth="7"
                    markerHeight="7"
                    orient="auto-start-reverse"
                  >
                    <path d="M0,0 L10,5 L0,10 z" class="arrow" />
                  </marker>
                </defs>
                {g.edges.map(({ from, to }) => {
                  const x1 = x(from) + W;
                  const y1 = y(from) + H / 2;
                  const x2 = x(to);
                  const y2 = y(to) + H / 2;
                  const mid = (x1 + x2) / 2;
                  return (
                    <path
                      key={`${from.task.id}-${to.task.id}`}
                      class="edge"
                      d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
                      marker-end="url(#arrow)"
                    />
                  );
                })}
                {g.nodes.map((p) => (
                  <a
                    key={p.task.id}
                    href={taskHref(props.space.id, p.task.id)}
                    class={`gnode s-${p.task.effectiveStatus}`}
                  >
                    <title>{`${p.task.title} (${p.task.effectiveStatus})`}</title>
                    <rect x={x(p)} y={y(p)} width={W} height={H} rx="6" />
                    <text x={x(p) + 8} y={y(p) + 17}>{clip(p.task.title, 24)}</text>
                    <text x={x(p) + 8} y={y(p) + 34} class="sub">
                      {shortId(p.task.id)} · {p.task.effectiveStatus}
                    </text>
                  </a>
                ))}
              </svg>
            </div>
          </>
        )}
    </section>
  );
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
