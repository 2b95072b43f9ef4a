/**
 * `weft kube node status|cordon|uncordon`: the Kubernetes virtual nodes this
 * peer runs (`[bridges.kubernetes.virtual_node]`), as their clusters see
 * them — Ready, cordoned, Lease age, capacity, and each pod with the mesh
 * job running it and the member holding that job — and cordoning one (its
 * cluster binds no new pods to it; those running finish) or uncordoning it,
 * through the cluster's API as `kubectl cordon` would.
 */
import type { VirtualNodeReport } from "../../bridges/kubernetes/virtual-node/node-report.ts";
import { enc, need } from "./args.ts";
import type { Command } from "./command.ts";
import { short, table } from "./output.ts";

/** One node as lines for a person: its standing, then its pods. */
function describe(n: VirtualNodeReport): string {
  const lease = n.lease ? `${n.lease.ageSeconds}s ago (lasts ${n.lease.durationSeconds}s)` : "never";
  const head = [
    `${n.name}  cluster ${n.cluster}  space ${n.space}`,
    `  Ready ${n.ready}${n.readyReason ? ` (${n.readyReason})` : ""}${n.cordoned ? "  CORDONED" : ""}` +
    `  Lease renewed ${lease}${n.renewing ? "" : "  (this peer is not renewing it)"}`,
    `  capacity cpu ${n.capacity.cpu ?? "-"}, memory ${n.capacity.memory ?? "-"}, pods ${n.capacity.pods ?? "-"}`,
  ];
  const pods = table(
    n.pods.map((p) => ({
      pod: `${p.namespace}/${p.name}`,
      phase: p.phase,
      job: p.job?.task,
      state: p.job?.state,
      peer: p.job?.node ? short(p.job.node) : undefined,
    })),
    ["pod", "phase", "job", "state", "peer"],
  );
  return `${head.join("\n")}\n${pods.replace(/^/gm, "  ")}`;
}

const cordoning = (cordoned: boolean): Command => ({
  usage: `weft kube node ${cordoned ? "cordon" : "uncordon"} <node>`,
  summary: cordoned
    ? "Cordon a virtual node this peer runs: its cluster binds no new pods to it (those running finish)"
    : "Uncordon a virtual node this peer runs: its cluster may bind pods to it again",
  async run(a, _v, io) {
    const name = need(a, 0, "node");
    const path = `/v1/kube/nodes/${enc(name)}/${cordoned ? "cordon" : "uncordon"}`;
    const report = await (await io.client()).request<VirtualNodeReport>("POST", path);
    io.print(report, () => describe(report));
  },
});

export const KUBE_COMMANDS: Record<string, Command> = {
  "kube node status": {
    usage: "weft kube node status",
    summary: "The Kubernetes virtual nodes this peer runs: Ready, cordoned, Lease age, capacity, pods and their jobs",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ nodes: VirtualNodeReport[] }>("/v1/kube/nodes");
      io.print(
        r,
        () =>
          r.nodes.length === 0
            ? "this peer runs no virtual node: see [bridges.kubernetes.virtual_node] in bridges/kubernetes/README.md"
            : r.nodes.map(describe).join("\n\n"),
      );
    },
  },
  "kube node cordon": cordoning(true),
  "kube node uncordon": cordoning(false),
};
