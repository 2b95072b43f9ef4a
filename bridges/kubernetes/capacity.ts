/**
 * A cluster's spare capacity, as the kubernetes runner advertises it: for
 * every Ready, schedulable node, what it can allocate (also advertised,
 * summed) minus what the pods bound to it (and not finished) request — CPU, memory, and GPUs per
 * extended resource (nvidia.com/gpu, amd.com/gpu, …) — summed; the
 * RuntimeClasses a Job may ask for; and the chosen node labels as tags
 * where every such node has the same value. Only nodes its Jobs can land
 * on count: by default not Weft's own virtual nodes (a Job does not
 * tolerate their taint, and what they offer is the mesh members' capacity,
 * which those members advertise themselves — counted here, the mesh would
 * see its own capacity advertised back as the cluster's). With
 * `tolerate_virtual_nodes` Jobs may land on them, so they count: the
 * operator chose to send the cluster's Jobs back to the mesh.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { quantity } from "./quantity.ts";
import { VIRTUAL_NODE_TAINT } from "./job-manifest.ts";

export interface SpareCapacity {
  nodes: number;
  cpuMillis: number;
  memoryMb: number;
  /** What those nodes can allocate in all, before what pods request. */
  allocatable: { cpuMillis: number; memoryMb: number };
  /** Spare GPUs by resource name. */
  gpus: Record<string, number>;
  runtimeClasses: string[];
  /** `label=value` for each chosen label every node shares. */
  tags: string[];
}

const GPU_RESOURCE = /^[a-z0-9.-]+\/gpu$/;

/** A Node a Weft virtual node registered (node-object.ts labels every one so). */
export const isVirtualNode = (node: V1Node) => node.metadata?.labels?.[VIRTUAL_NODE_TAINT] === "true";

/** Ready and schedulable. */
const ready = (node: V1Node) =>
  !node.spec?.unschedulable &&
  (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/** What the pods bound to a node ask for, per resource (a pod asks the larger of its containers' sum and any init container). */
function requested(pod: V1Pod): Map<string, number> {
  const sum = new Map<string, number>();
  const add = (into: Map<string, number>, reqs: Record<string, string> | undefined) => {
    for (const [k, v] of Object.entries(reqs ?? {})) into.set(k, (into.get(k) ?? 0) + quantity(v));
  };
  for (const c of pod.spec?.containers ?? []) add(sum, c.resources?.requests ?? c.resources?.limits);
  for (const c of pod.spec?.initContainers ?? []) {
    const init = new Map<string, number>();
    add(init, c.resources?.requests ?? c.resources?.limits);
    for (const [k, v] of init) sum.set(k, Math.max(sum.get(k) ?? 0, v));
  }
  return sum;
}

export function spareCapacity(
  nodes: V1Node[],
  pods: V1Pod[],
  runtimeClasses: string[],
  tagLabels: string[],
  /** Count Weft's virtual nodes too (the runner's Jobs tolerate them). */
  virtualNodes = false,
): SpareCapacity {
  const usable = nodes.filter((n) => ready(n) && (virtualNodes || !isVirtualNode(n)));
  const byNode = new Map(usable.map((n) => [n.metadata?.name ?? "", new Map<string, number>()]));
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const on = byNode.get(pod.spec?.nodeName ?? "");
    if (!on) continue;
    for (const [k, v] of requested(pod)) on.set(k, (on.get(k) ?? 0) + v);
  }
  let cpu = 0;
  let memory = 0;
  let allocCpu = 0;
  let allocMemory = 0;
  const gpus: Record<string, number> = {};
  for (const node of usable) {
    const used = byNode.get(node.metadata?.name ?? "")!;
    const alloc = node.status?.allocatable ?? {};
    const spare = (resource: string) => Math.max(0, quantity(alloc[resource]) - (used.get(resource) ?? 0));
    cpu += spare("cpu");
    memory += spare("memory");
    allocCpu += quantity(alloc.cpu);
    allocMemory += quantity(alloc.memory);
    for (const resource of Object.keys(alloc).filter((r) => GPU_RESOURCE.test(r))) {
      gpus[resource] = (gpus[resource] ?? 0) + Math.floor(spare(resource));
    }
  }
  const tags = tagLabels.flatMap((label) => {
    const values = new Set(usable.map((n) => n.metadata?.labels?.[label]));
    const [value] = values;
    return values.size === 1 && value !== undefined ? [`${label}=${value}`] : [];
  });
  return {
    nodes: usable.length,
    cpuMillis: Math.floor(cpu * 1000),
    memoryMb: Math.floor(memory / 2 ** 20),
    allocatable: { cpuMillis: Math.floor(allocCpu * 1000), memoryMb: Math.floor(allocMemory / 2 ** 20) },
    gpus,
    runtimeClasses: [...runtimeClasses].sort(),
    tags,
  };
}

/** The capacity as a runner's advert details: flat, small, strings at most 128 characters. */
export function advertDetails(c: SpareCapacity): Record<string, string | number | boolean> {
  const clip = (s: string) => s.length <= 128 ? s : s.slice(0, s.lastIndexOf(",", 128));
  const gpus = Object.entries(c.gpus).map(([k, v]) => `${k}=${v}`).join(",");
  return {
    nodes: c.nodes,
    cpuMillis: c.cpuMillis,
    memoryMb: c.memoryMb,
    allocCpuMillis: c.allocatable.cpuMillis,
    allocMemoryMb: c.allocatable.memoryMb,
    gpus: Object.values(c.gpus).reduce((a, b) => a + b, 0),
    ...(gpus ? { gpuTypes: clip(gpus) } : {}),
    ...(c.runtimeClasses.length > 0 ? { runtimeClasses: clip(c.runtimeClasses.join(",")) } : {}),
    ...(c.tags.length > 0 ? { tags: clip(c.tags.join(",")) } : {}),
  };
}
