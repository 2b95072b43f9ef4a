/**
 * Two real peer processes around a real control plane, for the virtual node
 * inside a peer: A hosts the kubernetes bridge with `[bridges.kubernetes.virtual_node]`
 * (the Node `weft-team`) and runs no jobs itself; B, a member of the same
 * space, runs container jobs (bubblewrap) and holds the base image. The
 * bridge is granted what it needs in the space. Shared by the kube test and
 * the bench.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import type { Cluster } from "../../bridges/kubernetes/cluster.ts";
import { VIRTUAL_NODE_TAINT } from "../../bridges/kubernetes/job-manifest.ts";
import { BASE_IMAGE_PATH } from "../containers/base-image.ts";
import type { ControlPlane } from "./kube-control-plane.ts";
import { eventually } from "./nodes.ts";
import { joinPeer, type PeerProcess, startPeer, weft } from "./peer-process.ts";

export const VN_NAMESPACE = "weft";
export const VN_NODE = "weft-team";
/** A's environment: it runs no jobs, so every pod's job runs on B. */
export const VN_HOST_ENV = { WEFT_SLOTS: "0", WEFT_LOG_LEVEL: "info" };

export interface VirtualNodePeers {
  a: PeerProcess;
  b: PeerProcess;
  space: string;
  /** The base image's digest, as pods name it. */
  image: string;
  bridgeDid: string;
}

/** Make the namespace (and wait for its default service account), start A and B, and wait for `weft-team` Ready. */
export async function startVirtualNodePeers(
  cp: ControlPlane,
  cluster: Cluster,
  nodeToml: string[] = [],
): Promise<VirtualNodePeers> {
  await cluster.core.createNamespace({ body: { metadata: { name: VN_NAMESPACE } } });
  await eventually(
    () => cluster.core.readNamespacedServiceAccount({ name: "default", namespace: VN_NAMESPACE }).then(() => true),
    60_000,
    "the default service account",
  );
  const homeA = await mkdtemp(join(tmpdir(), "weft-vnode-a-"));
  await writeFile(
    join(homeA, "weft.toml"),
    [
      "[bridges.kubernetes]",
      `kubeconfig = "${cp.kubeconfig}"`,
      `namespace = "${VN_NAMESPACE}"`,
      "slots = 1",
      "[bridges.kubernetes.virtual_node]",
      'space = "team"',
      `client_ca = "${cp.kubeletClientCa}"`,
      "port = 0",
      "lease_seconds = 8",
      ...nodeToml,
    ].join("\n") + "\n",
  );
  const homeB = await mkdtemp(join(tmpdir(), "weft-vnode-b-"));
  await writeFile(
    join(homeB, "weft.toml"),
    `[runners.container]\nbackend = "bwrap"\ncgroup_parent = "weft-vnode-${process.pid}"\n`,
  );
  const [a, b] = await Promise.all([startPeer(VN_HOST_ENV, homeA), startPeer({ WEFT_SLOTS: "2" }, homeB)]);
  const space = JSON.parse(await weft(a, "space", "create", "team", "--json")).id;
  const bridgeDid = JSON.parse(await weft(a, "bridge", "list", "--json")).bridges[0].did;
  await weft(a, "bridge", "grant", "kubernetes", "--space", space);
  const joined = await joinPeer(a, b, space);
  if (joined !== space) throw new Error(`B joined ${joined}, not ${space}`);
  const image = JSON.parse(await weft(b, "image", "import", BASE_IMAGE_PATH, "--space", space, "--json")).digest;
  await eventually(
    async () => {
      const node = await cluster.core.readNode({ name: VN_NODE }).catch(() => undefined);
      return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    },
    120_000,
    `the Node ${VN_NODE} Ready`,
  );
  return { a, b, space, image, bridgeDid };
}

/** A one-container pod for a Weft virtual node (`node`, default weft-team), running `script` in bash on `image`. */
export function virtualNodePod(
  name: string,
  image: string,
  script: string,
  o: { memory?: string; node?: string } = {},
): V1Pod {
  return {
    metadata: { name, namespace: VN_NAMESPACE },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      nodeSelector: { [VIRTUAL_NODE_TAINT]: "true", "kubernetes.io/hostname": o.node ?? VN_NODE },
      tolerations: [{ key: VIRTUAL_NODE_TAINT, operator: "Exists", effect: "NoSchedule" }],
      containers: [{
        name: "main",
        image,
        command: ["bash", "-c", script],
        ...(o.memory ? { resources: { limits: { memory: o.memory } } } : {}),
      }],
    },
  };
}
