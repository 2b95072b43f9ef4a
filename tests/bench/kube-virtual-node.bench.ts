/**
 * A pod through the virtual node inside a peer — bound by the real scheduler
 * to `weft-team`, made a container job of the space by peer A's kubernetes
 * bridge and run by peer B (another process) — against the same pod bound
 * to a virtual node in this process that runs it on this machine's
 * container runner (`localPods`, bridges/kubernetes/virtual-node/main.ts's
 * way), on the same control plane in the same run: pod created → Running
 * and → Succeeded, seen by one observer polling the API every 20 ms. The
 * difference is what placing the pod in the mesh costs (a signed task, the
 * scheduler's claim, the log and manifest fetched back). The two take turns
 * going first. Needs .ci/setup's control plane and base image.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { connect } from "../../bridges/kubernetes/cluster.ts";
import { localPods, VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { stopPeer } from "../helpers/peer-process.ts";
import { startVirtualNodePeers, virtualNodePod, VN_NAMESPACE } from "../helpers/virtual-node-peers.ts";
import { baseImage } from "../containers/base-image.ts";
import { percentile, report } from "./report.ts";

const BENCH = "kube-virtual-node";
const RUNS = Number(process.env.RUNS ?? 6);
const quiet = { debug() {}, info() {}, warn() {} };

const state = await mkdtemp(join(tmpdir(), "weft-bench-vnode-"));
const cp = await startControlPlane();
const made = connect({ kubeconfig: cp.kubeconfig });
if ("unavailable" in made) throw new Error(made.unavailable);
const cluster = made;
const peers = await startVirtualNodePeers(cp, cluster);
const store = new MemoryContentStore();
await store.put((await baseImage()).bytes);
const containers = await containerPlugin.create(
  containerPlugin.parseConfig({ backend: "bwrap", cgroup_parent: `weft-bench-vnode-${process.pid}` }),
  { stateDir: join(state, "container"), log: quiet },
);
if ("unavailable" in containers) throw new Error(containers.unavailable);
const local = new VirtualNode({
  cluster,
  name: "weft-local",
  tls: await cp.nodeTls("weft-local"),
  pods: localPods(containers, store),
  offer: { cpu: 4, memoryMb: 8192, pods: 8 },
  defaults: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
  pollMs: 100,
  log: quiet,
});
await local.start();

/** Create the pod on `node`; ms from the create to Running and to Succeeded. */
async function timed(name: string, node: string): Promise<{ running: number; succeeded: number }> {
  const t0 = performance.now();
  await cluster.core.createNamespacedPod({
    namespace: VN_NAMESPACE,
    body: virtualNodePod(name, peers.image, "echo hi", { node }),
  });
  let running = 0;
  // eventually() looks every 20 ms.
  const phase = await eventually(
    async () => {
      const phase = (await cluster.core.readNamespacedPod({ name, namespace: VN_NAMESPACE })).status?.phase;
      if (!running && (phase === "Running" || phase === "Succeeded")) running = performance.now() - t0;
      return phase === "Succeeded" || phase === "Failed" ? phase : undefined;
    },
    120_000,
    `pod ${name}'s end`,
  );
  const succeeded = performance.now() - t0;
  if (phase === "Failed") throw new Error(`pod ${name} failed`);
  await cluster.core.deleteNamespacedPod({ name, namespace: VN_NAMESPACE });
  return { running, succeeded };
}

const mesh: { running: number; succeeded: number }[] = [];
const here: { running: number; succeeded: number }[] = [];
// One of each first, so images are unpacked and clients warm before anything is timed.
for (let i = 0; i < RUNS + 1; i++) {
  const m = () => timed(`mesh-${i}`, "weft-team");
  const l = () => timed(`local-${i}`, "weft-local");
  const [x, y] = i % 2 === 0 ? [await m(), await l()] : await (async () => {
    const b = await l();
    return [await m(), b];
  })();
  if (i > 0) {
    mesh.push(x);
    here.push(y);
  }
}

const p50 = (xs: { running: number; succeeded: number }[], k: "running" | "succeeded") =>
  percentile(xs.map((x) => x[k]).sort((a, b) => a - b), 50);
for (const k of ["running", "succeeded"] as const) {
  report({
    bench: BENCH,
    metric: `pod created → ${
      k === "running" ? "Running" : "Succeeded"
    } p50 (in-peer virtual node, job on another peer)`,
    value: p50(mesh, k),
    unit: "ms",
    baseline: p50(here, k),
    note: `baseline: the same pod on a virtual node running it on this machine's container runner; runs=${RUNS}`,
  });
}

await local.close();
await containers.close();
await Promise.all([stopPeer(peers.a), stopPeer(peers.b)]);
await cp.stop();
await rm(state, { recursive: true, force: true });
process.exit(0);
