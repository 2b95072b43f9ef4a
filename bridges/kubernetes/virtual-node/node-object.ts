/**
 * The Node object and Lease that make the mesh a node of the cluster: a
 * Node `weft-<space>` labelled as a virtual kubelet and tainted so only pods
 * that tolerate it land there, with its capacity, Ready while the virtual
 * node renews it, and the address and port where its log endpoint listens;
 * and its Lease in kube-node-lease, renewed as a kubelet's is.
 */
import { type V1Lease, V1MicroTime, type V1Node, type V1NodeStatus } from "@kubernetes/client-node";
import { VIRTUAL_NODE_TAINT } from "../job-manifest.ts";

export interface NodeOffer {
  /** CPU cores and memory the mesh offers the cluster here, and how many pods at once. */
  cpu: number;
  memoryMb: number;
  pods: number;
}

/** A Node name for a space: `weft-` and the space's name as a DNS label. */
export function nodeNameFor(space: string): string {
  const label = space.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 57);
  return `weft-${label || "space"}`;
}

export function nodeObject(name: string): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        type: "virtual-kubelet",
        "kubernetes.io/role": "agent",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        [VIRTUAL_NODE_TAINT]: "true",
      },
    },
    spec: { taints: [{ key: VIRTUAL_NODE_TAINT, value: "true", effect: "NoSchedule" }] },
  };
}

export function nodeStatus(
  offer: NodeOffer,
  address: string,
  port: number,
  since: Date,
  now: Date,
  version: string,
): V1NodeStatus {
  const resources = { cpu: `${offer.cpu}`, memory: `${offer.memoryMb}Mi`, pods: `${offer.pods}` };
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: since,
  });
  return {
    capacity: resources,
    allocatable: resources,
    conditions: [
      condition("Ready", "True", "WeftVirtualNodeReady", "the Weft virtual node is running pods on the mesh"),
      condition("MemoryPressure", "False", "WeftVirtualNodeHasSufficientMemory", "ok"),
      condition("DiskPressure", "False", "WeftVirtualNodeHasNoDiskPressure", "ok"),
      condition("PIDPressure", "False", "WeftVirtualNodeHasSufficientPID", "ok"),
      condition("NetworkUnavailable", "False", "WeftVirtualNode", "ok"),
    ],
    addresses: [{ type: "InternalIP", address }],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
    nodeInfo: {
      machineID: "",
      systemUUID: "",
      bootID: "",
      kernelVersion: "",
      osImage: "Weft mesh",
      containerRuntimeVersion: `weft://${version}`,
      kubeletVersion: `v1.20.2-weft-${version}`,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

export function nodeLease(name: string, nodeUid: string | undefined, seconds: number, now: Date): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name,
      namespace: "kube-node-lease",
      ...(nodeUid ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid: nodeUid }] } : {}),
    },
    // A Lease's times are MicroTime: six fractional digits, or the API server refuses them.
    spec: { holderIdentity: name, leaseDurationSeconds: seconds, renewTime: new V1MicroTime(now.getTime()) },
  };
}
