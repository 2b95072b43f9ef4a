/**
 * Clusters as the Clusters view shows them, read from what the space
 * already carries: each live node whose signed advert offers the
 * `kubernetes` runner is a cluster bridge, and its runner details say which
 * cluster (its API server's host) and what it has to spare (summed over its
 * Ready nodes); its Weft jobs are the space's kubernetes runs that node holds.
 * Details are bounded strings and numbers from a peer's advert: read
 * defensively, never trusted to be well formed.
 */
import type { LiveAdvert } from "#protocol/capacity";
import type { Pod } from "#protocol/scheduler";

export interface ClusterView {
  /** The node (DID) whose runner reaches the cluster. */
  node: string;
  /** The cluster's API server host, as the node advertises it. */
  cluster: string;
  /** Ready, schedulable nodes; spare CPU (millicores), memory (MB) and GPUs summed over them. */
  nodes?: number;
  cpuMillis?: number;
  memoryMb?: number;
  gpus?: number;
  gpuTypes: string[];
  runtimeClasses: string[];
  tags: string[];
  /** Unix ms: when the advert was made and when it lapses (the health of the bridge). */
  advertisedAt: number;
  expires: number;
  /** Its Weft jobs: the space's kubernetes runs it holds, claimed or running. */
  jobs: Pod[];
}

const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : undefined;
const names = (v: unknown) => typeof v === "string" && v !== "" ? v.split(",") : [];

/** The clusters behind `adverts`, with the kubernetes runs in `pods` each holds; sorted by cluster. */
export function clustersOf(adverts: readonly LiveAdvert[], pods: readonly Pod[]): ClusterView[] {
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
        gpus: num(d.gpus),
        gpuTypes: names(d.gpuTypes),
        runtimeClasses: names(d.runtimeClasses),
        tags: names(d.tags),
        advertisedAt: a.at,
        expires: a.expires,
        jobs: pods.filter((p) =>
          p.runner === "kubernetes" && p.node === a.node && (p.state === "claimed" || p.state === "running")
        ),
      };
    })
    .sort((x, y) => x.cluster.localeCompare(y.cluster) || x.node.localeCompare(y.node));
}
