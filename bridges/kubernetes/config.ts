/**
 * `[bridges.kubernetes]` in weft.toml: which cluster (a kubeconfig file, or
 * the service account of the pod the peer runs in), the namespace its Jobs
 * go to, which node labels it advertises as tags, the CPU each Job asks for,
 * whether its Jobs may land on Weft virtual nodes, how often it looks at
 * the cluster's spare capacity, and how many jobs the bridge runs there at
 * once. Checked at the boundary, defaults filled in.
 */
import { bool, int, InvalidInput, list, object, optional, str } from "#protocol/schema";
import { parseVirtualNodeConfig, type VirtualNodeConfig } from "./virtual-node/config.ts";

export interface KubernetesConfig {
  /** A kubeconfig file; absent: the in-cluster service account (KUBERNETES_SERVICE_HOST and its token). */
  kubeconfig?: string;
  /** The kubeconfig context; absent: its current context. */
  context?: string;
  /** Where Jobs and their NetworkPolicies are made (it must exist). */
  namespace: string;
  /** Node labels advertised as tags `key=value` when every Ready node agrees on the value. */
  tagLabels: string[];
  /** CPU each Job requests, in millicores (a run spec names memory, not CPU). */
  cpuMillis: number;
  /** Let Jobs run on Weft virtual nodes (tolerate their taint): the mesh's own machines. */
  tolerateVirtualNodes: boolean;
  /** How often the cluster's spare capacity is read again, in seconds. */
  refreshSeconds: number;
  /** The code-server image (by digest) an editor pod runs (editor/); absent: specs asking for an editor are refused. */
  editorImage?: string;
}

/** A Kubernetes label key: an optional DNS prefix and a name. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const shape = object({
  kubeconfig: optional(str(1, 4096)),
  context: optional(str(1, 253)),
  namespace: optional(str(1, 63, DNS_LABEL)),
  tag_labels: optional(list(str(1, 317, LABEL_KEY), 32)),
  cpu_millis: optional(int(1, 1_000_000)),
  tolerate_virtual_nodes: optional(bool),
  refresh_seconds: optional(int(1, 3600)),
  editor_image: optional(str(1, 512, /^(?:[^@\s]+@)?sha256:[0-9a-f]{64}$/)),
});

/** The cluster settings (the kubernetes runner's); errors name the key under `where`. */
export function parseKubernetesConfig(raw: unknown, where = "bridges.kubernetes"): KubernetesConfig {
  const c = shape(raw ?? {}, where);
  return {
    ...(c.kubeconfig !== undefined ? { kubeconfig: c.kubeconfig } : {}),
    ...(c.context !== undefined ? { context: c.context } : {}),
    namespace: c.namespace ?? "weft",
    tagLabels: c.tag_labels ?? ["kubernetes.io/arch"],
    cpuMillis: c.cpu_millis ?? 250,
    tolerateVirtualNodes: c.tolerate_virtual_nodes ?? false,
    refreshSeconds: c.refresh_seconds ?? 10,
    ...(c.editor_image !== undefined ? { editorImage: c.editor_image } : {}),
  };
}

/**
 * The bridge's settings: the cluster's, how many of the mesh's jobs it runs
 * there at once, and the virtual node it makes of the mesh there, if any.
 */
export interface KubernetesBridgeConfig {
  cluster: KubernetesConfig;
  slots: number;
  virtualNode?: VirtualNodeConfig;
}

/** Read `[bridges.kubernetes]`; a wrong value is refused naming its key (relative to the table). */
export function parseKubernetesBridgeConfig(table: Record<string, unknown>): KubernetesBridgeConfig {
  const { slots = 8, virtual_node, ...rest } = table;
  if (typeof slots !== "number" || !Number.isInteger(slots) || slots < 1 || slots > 1000) {
    throw new InvalidInput("slots", "must be a whole number from 1 to 1000");
  }
  try {
    return {
      cluster: parseKubernetesConfig(rest, ""),
      slots,
      ...(virtual_node !== undefined ? { virtualNode: parseVirtualNodeConfig(virtual_node, ".virtual_node") } : {}),
    };
  } catch (e) {
    if (!(e instanceof InvalidInput) || !e.field.startsWith(".")) throw e;
    throw new InvalidInput(e.field.slice(1), e.message.slice(e.field.length + 1));
  }
}

/** The `[bridges.kubernetes]` table `weft init` writes, commented out, every setting at its default. */
export const KUBERNETES_TOML = `
# [bridges.kubernetes]
# A cluster joins the mesh as a node of its own, under the bridge's DID (bridges/kubernetes/README.md): jobs of kind
# kubernetes become batch/v1 Jobs. Grant its DID (logged at start) /weft/capacity/advertise, /weft/task/claim,
# /weft/task/comment, /weft/task/close and /weft/run/kubernetes in each space it serves.
# kubeconfig = "/home/me/.kube/config"   # absent: the service account of the pod this peer runs in
# context = "prod"
# namespace = "weft"
# tag_labels = ["kubernetes.io/arch"]
# cpu_millis = 250
# tolerate_virtual_nodes = false
# refresh_seconds = 10
# editor_image = "sha256:…"             # a code-server image: runs with "editor": true get an editor pod
# slots = 8
#
# [bridges.kubernetes.virtual_node]
# The mesh as a node of the cluster (weft-<space>): the pods its scheduler binds there become container jobs of the
# space, run on any member's container runner. Also grant the bridge /weft/task/create, /weft/task/cancel and
# /weft/run/container there.
# space = "team"
# client_ca = "/etc/kubernetes/pki/ca.crt"   # the CA of the API server's kubelet client certificate
# address = "127.0.0.1"                      # where the API server reaches the node's log endpoint
# port = 10250
# cpu = 4
# memory_mb = 8192
# pods = 8
# lease_seconds = 40
# network = false
`;
