/**
 * Clusters: each Kubernetes cluster the space's nodes reach (a node whose
 * advert offers the `kubernetes` runner), with what its Ready nodes can
 * allocate and have to spare — CPU, memory, GPUs by type, RuntimeClasses,
 * tags — the health of its bridge (how fresh its signed advert is) and the
 * Weft jobs it runs now; and the virtual node the bridge makes of the mesh
 * there, if any: its capacity (its allocatable too), pods running, health,
 * and its pods' jobs with where in the mesh each runs. Every job links to
 * its task. Read from gossip and the replicated task state, so every member
 * sees the same (model/clusters.ts).
 */
import { listPods } from "#protocol/scheduler";
import type { Space } from "#protocol/space";
import { clustersOf, type VirtualNodeView } from "../../model/clusters.ts";
import { useEvents, useTick } from "../../model/hooks.ts";
import { taskHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { ago, mb, namesOf, until, who } from "../format.ts";

export function ClustersView(props: { space: Space }) {
  const { bn } = useApp();
  useSpace(props.space);
  useTick(2000);
  useEvents((fire) => bn.capacity.subscribe(fire), [bn]);
  const now = Date.now();
  const scheduler = bn.offer.scheduler;
  const pods = listPods(props.space, now, (task) => scheduler?.run(props.space.id, task));
  const clusters = clustersOf(bn.capacity.adverts(props.space.id), pods, (id) => {
    const t = props.space.task(id);
    return t && { creator: t.creator, labels: t.labels };
  });
  const names = namesOf(props.space);
  const list = (items: string[]) => items.length > 0 ? items.join(", ") : "—";
  return (
    <section aria-labelledby="clusters-title" class="stack">
      <h1 id="clusters-title">Clusters</h1>
      {clusters.length === 0
        ? (
          <p class="empty" data-empty="clusters">
            No live node in this space offers a Kubernetes cluster. A peer with <code>[bridges.kubernetes]</code>{" "}
            (bridges/kubernetes/README.md) appears here while it advertises.
          </p>
        )
        : clusters.map((c) => (
          <article key={`${c.node} ${c.cluster}`} class="card" data-cluster={c.cluster}>
            <h2>{c.cluster}</h2>
            <p>
              Through {who(c.node, names, bn.did)}; advertised {ago(c.advertisedAt, now)}, lapses{" "}
              {until(c.expires, now)}.
            </p>
            <dl class="facts">
              <dt>Ready nodes</dt>
              <dd data-fact="nodes">{c.nodes ?? "—"}</dd>
              <dt>Allocatable CPU</dt>
              <dd data-fact="alloc-cpu">{c.allocCpuMillis === undefined ? "—" : `${c.allocCpuMillis / 1000} cores`}</dd>
              <dt>Allocatable memory</dt>
              <dd data-fact="alloc-memory">{c.allocMemoryMb === undefined ? "—" : mb(c.allocMemoryMb)}</dd>
              <dt>Spare CPU</dt>
              <dd data-fact="cpu">{c.cpuMillis === undefined ? "—" : `${c.cpuMillis / 1000} cores`}</dd>
              <dt>Spare memory</dt>
              <dd data-fact="memory">{c.memoryMb === undefined ? "—" : mb(c.memoryMb)}</dd>
              <dt>Spare GPUs</dt>
              <dd data-fact="gpus">{c.gpus ?? "—"} {c.gpuTypes.length > 0 ? `(${c.gpuTypes.join(", ")})` : ""}</dd>
              <dt>RuntimeClasses</dt>
              <dd>{list(c.runtimeClasses)}</dd>
              <dt>Tags</dt>
              <dd>{list(c.tags)}</dd>
            </dl>
            <h3>Weft jobs running ({c.jobs.length})</h3>
            {c.jobs.length === 0 ? <p class="empty">None now.</p> : (
              <ul data-jobs={c.jobs.length}>
                {c.jobs.map((p) => (
                  <li key={p.task}>
                    <a href={taskHref(props.space.id, p.task)}>{p.title}</a> — {p.state}
                  </li>
                ))}
              </ul>
            )}
            {c.virtualNode && <VirtualNode node={c.virtualNode} space={props.space} now={now} />}
          </article>
        ))}
    </section>
  );
}

/** The virtual node a cluster's bridge makes of the mesh: what it offers, its health, its pods' jobs. */
function VirtualNode(props: { node: VirtualNodeView; space: Space; now: number }) {
  const { bn } = useApp();
  const v = props.node;
  const names = namesOf(props.space);
  const figure = (n: number | undefined, text: (n: number) => string) => n === undefined ? "—" : text(n);
  return (
    <section class="stack" data-virtual-node={v.name} aria-label={`virtual node ${v.name}`}>
      <h3>
        Virtual node {v.name}{" "}
        <span class="badge" data-health={v.ready ? "ready" : "not-ready"}>{v.ready ? "Ready" : "NotReady"}</span>
      </h3>
      <p>
        The mesh as a node of this cluster: pods bound to it run as this space's container jobs, on any member.
        {v.renewedAt !== undefined ? ` Lease renewed ${ago(v.renewedAt, props.now)}.` : " Lease not renewed yet."}
      </p>
      <dl class="facts">
        <dt>Capacity (allocatable)</dt>
        <dd data-fact="vn-capacity">
          {figure(v.cpu, (n) => `${n} cores`)}, {figure(v.memoryMb, mb)}, {figure(v.pods, (n) => `${n} pods`)}
        </dd>
        <dt>Pods running</dt>
        <dd data-fact="vn-running">{v.running ?? "—"}</dd>
      </dl>
      <h4>Its pods' Weft jobs ({v.jobs.length})</h4>
      {v.jobs.length === 0 ? <p class="empty">None now.</p> : (
        <ul data-vn-jobs={v.jobs.length}>
          {v.jobs.map((p) => (
            <li key={p.task} data-pod={p.title.replace(/^pod /, "")}>
              <a href={taskHref(props.space.id, p.task)}>{p.title}</a> — {p.state}
              {p.node ? <>, on {who(p.node, names, bn.did)}</> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
