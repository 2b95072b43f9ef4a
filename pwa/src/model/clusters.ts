/**
 * Clusters as the Clusters view shows them, read from what the space
 * already carries: each live node whose signed advert offers the
 * `kubernetes` runner is a cluster bridge, and its runner details say which
 * cluster (its API server's host), what its Ready nodes can allocate and
 * what they have to spare; its Weft jobs are the space's kubernetes runs
 * that node holds. A bridge that also makes the mesh a node of its cluster
 * (a virtual node) says so in the same details: its Node's name, capacity
 * (its allocatable too), pods running and health; that node's jobs are the
 * container runs the bridge created for the pods bound to it (labelled
 * `kubernetes-pod`), wherever in the mesh they run.
 * Details are bounded strings and numbers from a peer's advert: read
 * defensively, never trusted to be well formed.
 */
import type { LiveAdvert } from "#protocol/capacity";
import type { Pod } from "#protocol/scheduler";

/** The label the kubernetes bridge puts on the jobs it makes of its virtual node's pods. */
export const POD_JOB_LABEL = "kubernetes-pod";

export interface VirtualNodeView {
  /** The Node's name in the cluster (`weft-<space>`). */
  name: string;
  /** Its capacity, which is also its allocatable. */
  cpu?: number;
  memoryMb?: number;
  pods?: number;
  /** Pods it runs now, as it last advertised. */
  running?: number;
  /** It renewed its Lease within the Lease's duration when it last advertised. */
  ready: boolean;
  renewedAt?: number;
  /** Its pods' jobs not yet ended: each titled `pod <namespace>/<name>`, with where it runs. */
  jobs: Pod[];
}

/** Who created a task and its labels, to tell a virtual node's pod jobs. */
export type TaskOrigin = (task: string) => { creator: string; labels: readonly string[] } | undefined;

export interface ClusterView {
  /** The node (DID) whose runner reaches the cluster. */
  node: string;
  /** The cluster's API server host, as the node advertises it. */
  cluster: string;
  /** Ready, schedulable nodes; spare CPU (millicores), memory (MB) and GPUs summed over them. */
  nodes?: number;
  cpuMillis?: number;
  memoryMb?: number;
  /** What the Ready nodes can allocate in all (spare is what is left of it). */
  allocCpuMillis?: number;
  allocMemoryMb?: number;
  gpus?: number;
  gpuTypes: string[];
  runtimeClasses: string[];
  tags: string[];
  /** Unix ms: when the advert was made and when it lapses (the health of the bridge). */
  advertisedAt: number;
  expires: number;
  /** Its Weft jobs: the space's kubernetes runs it holds, claimed or running. */
  jobs: Pod[];
  /** The virtual node it makes of the mesh in that cluster, if any. */
  virtualNode?: VirtualNodeView;
}

const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : undefined;
const names = (v: unknown) => typeof v === "string" && v !== "" ? v.split(",") : [];

/** `cpu=4,memoryMb=8192,pods=8` as numbers; what is not a number is left out. */
function figures(v: unknown): Record<string, number> {
  if (typeof v !== "string") return {};
  const out: Record<string, number> = {};
  for (const part of v.split(",")) {
    const [k, n] = part.split("=");
    const x = Number(n);
    if (k && n !== undefined && n !== "" && Number.isFinite(x)) out[k] = x;
  }
  return out;
}

function virtualNodeOf(
  bridge: string,
  d: Record<string, unknown>,
  pods: readonly Pod[],
  origin: TaskOrigin,
): VirtualNodeView | undefined {
  if (typeof d.virtualNode !== "string" || d.virtualNode === "") return undefined;
  const offer = figures(d.vnCapacity);
  return {
    name: d.virtualNode,
    cpu: offer.cpu,
    memoryMb: offer.memoryMb,
    pods: offer.pods,
    running: num(d.vnRunning),
    ready: d.vnReady === true,
    renewedAt: num(d.vnRenewedAt),
    jobs: pods.filter((p) => {
      if (p.runner !== "container" || !["queued", "claimed", "running"].includes(p.state)) return false;
      const o = origin(p.task);
      return o?.creator === bridge && o.labels.includes(POD_JOB_LABEL);
    }),
  };
}

/**
 * The clusters behind `adverts`, with the kubernetes runs in `pods` each
 * holds and its virtual node's pod jobs (told by `origin`); sorted by cluster.
 */
export function clustersOf(
  adverts: readonly LiveAdvert[],
  pods: readonly Pod[],
  origin: TaskOrigin = () => undefined,
): ClusterView[] {
  return adverts
    .filter((a) => a.runners.includes("kubernetes"))
    .map((a) => {
      const d: Record<string, unknown> = a.runnerDetails?.kubernetes ?? {};
      return {
        node: a.node,
        cluster: typeof d.cluster === "string" ? d.cluster : "(not said)",
        nodes: num(d.nodes),
        cpuMillis: num(d.cpuMillis),
        memoryMb: num(d.memoryMb),
        allocCpuMillis: num(d.allocCpuMillis),
        allocMemoryMb: num(d.allocMemoryMb),
        gpus: num(d.gpus),
        gpuTypes: names(d.gpuTypes),
        runtimeClasses: names(d.runtimeClasses),
        tags: names(d.tags),
        advertisedAt: a.at,
        expires: a.expires,
        jobs: pods.filter((p) =>
          p.runner === "kubernetes" && p.node === a.node && (p.state === "claimed" || p.state === "running")
        ),
        virtualNode: virtualNodeOf(a.node, d, pods, origin),
      };
    })
    .sort((x, y) => x.cluster.localeCompare(y.cluster) || x.node.localeCompare(y.node));
}
