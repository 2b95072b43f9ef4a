/**
 * Laying out the dependency graph: tasks that take part in a dependency,
 * in layers (a task sits one layer right of the last thing it waits for),
 * ordered within a layer by where their dependencies sit, so edges mostly
 * run straight. Large spaces show the most recently updated part.
 */
import { compareHlc, type TaskView } from "#protocol/tasks";

export interface PlacedTask {
  task: TaskView;
  layer: number;
  row: number;
}

export interface GraphLayout {
  nodes: PlacedTask[];
  /** from: the dependency, to: the task that waits for it. */
  edges: { from: PlacedTask; to: PlacedTask }[];
  layers: number;
  rows: number;
  /** Tasks in dependencies left out to stay readable. */
  omitted: number;
}

export function layoutGraph(tasks: readonly TaskView[], limit = 150): GraphLayout {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const linked = new Set<string>();
  for (const t of tasks) {
    for (const d of t.deps) {
      if (!byId.has(d)) continue;
      linked.add(t.id);
      linked.add(d);
    }
  }
  const chosen = [...linked].map((id) => byId.get(id)!).sort((a, b) => compareHlc(b.updatedAt, a.updatedAt))
    .slice(0, limit);
  const inGraph = new Map(chosen.map((t) => [t.id, t]));

  const layerOf = new Map<string, number>();
  const layer = (t: TaskView): number => {
    const known = layerOf.get(t.id);
    if (known !== undefined) return known;
    layerOf.set(t.id, 0); // the reducer refuses cycles; this only guards the recursion
    let l = 0;
    for (const d of t.deps) {
      const dep = inGraph.get(d);
      if (dep) l = Math.max(l, layer(dep) + 1);
    }
    layerOf.set(t.id, l);
    return l;
  };
  const layers: TaskView[][] = [];
  for (const t of chosen) (layers[layer(t)] ??= []).push(t);

  const placed = new Map<string, PlacedTask>();
  for (const [i, list] of layers.entries()) {
    const key = (t: TaskView) => {
      const rows = t.deps.map((d) => placed.get(d)?.row).filter((r): r is number => r !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Infinity;
    };
    const ordered = [...(list ?? [])].sort((a, b) => key(a) - key(b) || compareHlc(a.createdAt, b.createdAt));
    ordered.forEach((t, row) => placed.set(t.id, { task: t, layer: i, row }));
  }
  const nodes = [...placed.values()];
  const edges = nodes.flatMap((to) =>
    to.task.deps.map((d) => placed.get(d)).filter((from): from is PlacedTask => !!from).map((from) => ({ from, to }))
  );
  return {
    nodes,
    edges,
    layers: layers.length,
    rows: Math.max(0, ...layers.map((l) => l?.length ?? 0)),
    omitted: linked.size - chosen.length,
  };
}
