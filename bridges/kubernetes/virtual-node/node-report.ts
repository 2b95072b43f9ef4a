/**
 * Operating a virtual node this peer runs (`weft kube node …`): how the
 * cluster sees it — Ready or not and why, cordoned or not, its capacity and
 * allocatable, when its Lease was last renewed — and each pod bound to it
 * with the mesh job running it and the member holding that job; and
 * cordoning it (no new pods are bound; those running stay) or uncordoning
 * it, through the cluster's API as `kubectl cordon` does. Read from the API
 * rather than this process's memory, so a node that stopped renewing reads
 * as the cluster sees it.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { BridgeSpace } from "#protocol/bridge";
import { podOf } from "#protocol/scheduler";
import { apiError, call, type Cluster, statusOf } from "../cluster.ts";
import type { VirtualNode } from "./virtual-node.ts";

export interface VirtualNodePod {
  namespace: string;
  name: string;
  /** The pod's phase as the API has it. */
  phase: string;
  /** The mesh job running it: its task, its state, and the member (DID) holding or last holding it. */
  job?: { task: string; state: string; node?: string };
}

export interface VirtualNodeReport {
  name: string;
  /** The API server it is a node of (host:port). */
  cluster: string;
  /** The space whose container jobs run its pods. */
  space: string;
  /** The Node's Ready condition: "True", "False" or "Unknown" (the node controller's, once it stopped renewing). */
  ready: string;
  readyReason?: string;
  /** Cordoned: the scheduler binds no new pods to it. */
  cordoned: boolean;
  /** This process renews its Lease and status (it may be closing, or the API unreachable). */
  renewing: boolean;
  lease?: { renewedAt: string; ageSeconds: number; durationSeconds: number };
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  pods: VirtualNodePod[];
}

/** The virtual node `node` as the cluster sees it, and its pods' jobs in `space` (if the bridge holds it). */
export async function nodeReport(
  cluster: Cluster,
  node: VirtualNode,
  spaceName: string,
  space: BridgeSpace | undefined,
  now = Date.now(),
): Promise<VirtualNodeReport> {
  const name = node.name;
  const [object, lease, bound, jobs] = await Promise.all([
    call(`reading node ${name}`, () => cluster.core.readNode({ name })),
    cluster.coordination.readNamespacedLease({ name, namespace: "kube-node-lease" }).catch((e) => {
      if (statusOf(e) === 404) return undefined;
      throw apiError(`reading node ${name}'s Lease`, e);
    }),
    call(
      `listing the pods bound to ${name}`,
      () => cluster.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` }),
    ),
    node.jobs(),
  ]);
  const ready = object.status?.conditions?.find((c) => c.type === "Ready");
  const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime) : undefined;
  return {
    name,
    cluster: new URL(cluster.server).host,
    space: space?.name ?? spaceName,
    ready: ready?.status ?? "Unknown",
    ...(ready?.reason ? { readyReason: ready.reason } : {}),
    cordoned: object.spec?.unschedulable === true,
    renewing: node.status(now).ready,
    ...(renewed
      ? {
        lease: {
          renewedAt: renewed.toISOString(),
          ageSeconds: Math.max(0, Math.round((now - renewed.getTime()) / 1000)),
          durationSeconds: lease?.spec?.leaseDurationSeconds ?? 0,
        },
      }
      : {}),
    capacity: object.status?.capacity ?? {},
    allocatable: object.status?.allocatable ?? {},
    pods: bound.items.map((p) => {
      const task = jobs.get(p.metadata?.uid ?? "");
      const t = task ? space?.task(task) : undefined;
      const pod = t?.run ? podOf(space!.id, t as typeof t & { run: NonNullable<typeof t.run> }, now) : undefined;
      return {
        namespace: p.metadata?.namespace ?? "",
        name: p.metadata?.name ?? "",
        phase: p.status?.phase ?? "Pending",
        ...(pod ? { job: { task: pod.task, state: pod.state, ...(pod.node ? { node: pod.node } : {}) } } : {}),
      };
    }),
  };
}

/** Cordon (`true`) or uncordon the Node `name`: its spec.unschedulable, as `kubectl cordon` sets it. */
export async function setCordoned(cluster: Cluster, name: string, cordoned: boolean): Promise<V1Node> {
  for (let attempt = 0;; attempt++) {
    const node = await call(`reading node ${name}`, () => cluster.core.readNode({ name }));
    node.spec = { ...node.spec, unschedulable: cordoned };
    try {
      return await cluster.core.replaceNode({ name, body: node });
    } catch (e) {
      // The virtual node's own heartbeat or the node controller wrote it meanwhile: read it again.
      if (statusOf(e) !== 409 || attempt >= 5) {
        throw apiError(`${cordoned ? "cordoning" : "uncordoning"} node ${name}`, e);
      }
    }
  }
}
