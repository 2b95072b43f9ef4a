/**
 * Submit → pod running through the kubernetes runner, against an in-process
 * create of the same Job (the same manifest, through the same client, so
 * the baseline pays no process start or kubeconfig parse the runner does
 * not) on the same control plane in the same run: both pods are bound by the
 * real scheduler to the Weft virtual node and run by its container runner,
 * and one observer polling the API every 20 ms sees both reach Running.
 * Target: ≤ 1.2× the direct create + 100 ms. Also how long after a Job's
 * pod runs the node's signed capacity advert on the space's gossip shows it
 * (the runner re-reads the cluster when the pod is bound and the node
 * advertises again at once), against the periodic advert it would otherwise
 * wait for. Needs .ci/setup's control plane and base image.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { runSpecCid } from "../../protocol/runner/runner.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { connect } from "../../bridges/kubernetes/cluster.ts";
import { parseKubernetesConfig } from "../../bridges/kubernetes/config.ts";
import { jobManifest, RUN_KEY_LABEL, runKey } from "../../bridges/kubernetes/job-manifest.ts";
import { createKubernetesRunner } from "../../bridges/kubernetes/runner.ts";
import { nodeNameFor } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import { localPods, VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { startCompute } from "../../protocol/scheduler/compute.ts";
import { startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually, memoryNode } from "../helpers/nodes.ts";
import { baseImage } from "../containers/base-image.ts";
import { percentile, report } from "./report.ts";

const BENCH = "kubernetes";
const RUNS = Number(process.env.RUNS ?? 8);
const quiet = { debug() {}, info() {}, warn() {} };

const state = await mkdtemp(join(tmpdir(), "weft-bench-kube-"));
const store = new MemoryContentStore();
const base = await baseImage();
await store.put(base.bytes);
const cp = await startControlPlane();
const made = connect({ kubeconfig: cp.kubeconfig });
if ("unavailable" in made) throw new Error(made.unavailable);
const cluster = made;
await cluster.core.createNamespace({ body: { metadata: { name: "weft" } } });
await eventually(
  () => cluster.core.readNamespacedServiceAccount({ name: "default", namespace: "weft" }).then(() => true),
  60_000,
  "the default service account",
);
const containers = await containerPlugin.create(
  containerPlugin.parseConfig({ backend: "bwrap", cgroup_parent: `weft-bench-kube-${process.pid}` }),
  { stateDir: join(state, "container"), log: quiet },
);
if ("unavailable" in containers) throw new Error(containers.unavailable);
const vnode = new VirtualNode({
  cluster,
  name: nodeNameFor("bench"),
  tls: await cp.nodeTls(nodeNameFor("bench")),
  pods: localPods(containers, store),
  offer: { cpu: 16, memoryMb: 16384, pods: 32 },
  defaults: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
  pollMs: 100,
  log: quiet,
});
await vnode.start();
const config = parseKubernetesConfig({ kubeconfig: cp.kubeconfig, tolerate_virtual_nodes: true, refresh_seconds: 10 });
const runner = createKubernetesRunner(cluster, config, { log: quiet });
await runner.warmUp();

const spec = (i: number): RunSpec => ({
  runner: "kubernetes",
  program: base.digest,
  args: ["sleep", "60"],
  inputs: [],
  env: [{ name: "RUN", value: String(i) }],
  limits: { wallMs: 120_000, memoryMb: 64, outputBytes: 1 << 20 },
});

/** Poll the API until the pod labelled `key` is Running; ms since `t0`. */
async function running(key: string, t0: number): Promise<number> {
  await eventually(
    async () => {
      const pods = await cluster.core.listNamespacedPod({
        namespace: "weft",
        labelSelector: `${RUN_KEY_LABEL}=${key}`,
      });
      return pods.items[0]?.status?.phase === "Running";
    },
    60_000,
    "the pod running",
  );
  return performance.now() - t0;
}

const bridged: number[] = [];
const raw: number[] = [];
// One of each first, so the image is unpacked and the clients are warm before anything is timed.
for (let i = 0; i < RUNS + 1; i++) {
  const viaRunner = async () => {
    const t0 = performance.now();
    const handle = runner.start(spec(i), store);
    const ms = await running(handle.id, t0);
    await handle.stop();
    return ms;
  };
  const direct = async () => {
    const s = spec(1000 + i);
    const cid = runSpecCid(s).toString();
    const key = runKey(cid);
    const t0 = performance.now();
    await cluster.batch.createNamespacedJob({ namespace: "weft", body: jobManifest(s, cid, key, config) });
    const ms = await running(key, t0);
    await cluster.batch.deleteNamespacedJob({
      name: `weft-${key}`,
      namespace: "weft",
      propagationPolicy: "Background",
    });
    return ms;
  };
  // Each goes first every other time: the one that follows the other's deletion (its container stopping on the
  // virtual node) would otherwise pay for it every time.
  const [a, b] = i % 2 === 0 ? [await viaRunner(), await direct()] : await (async () => {
    const d = await direct();
    return [await viaRunner(), d];
  })();
  if (i > 0) {
    bridged.push(a);
    raw.push(b);
  }
}

bridged.sort((x, y) => x - y);
raw.sort((x, y) => x - y);
report({
  bench: BENCH,
  metric: "submit → pod running p50 (runner)",
  value: percentile(bridged, 50),
  unit: "ms",
  baseline: percentile(raw, 50),
  note: "baseline: an in-process create of the same Job through the same client; target ≤ 1.2× + 100 ms",
});
report({
  bench: BENCH,
  metric: "submit → pod running p90 (runner)",
  value: percentile(bridged, 90),
  unit: "ms",
  baseline: percentile(raw, 90),
});

// Capacity freshness: from a Job's pod running to this node's signed advert on the space's gossip showing its
// request. The baseline is the periodic advert's interval: what the advert would lag by without the runner's report.
const { node } = await memoryNode();
const space = await node.createSpace("bench");
const ADVERT_MS = 30_000;
const compute = startCompute(node, {
  runners: [runner],
  slots: 1,
  store,
  machine: () => ({
    cpu: { cores: 2, load: 0 },
    memoryMb: { total: 1, free: 1 },
    gpus: 0,
    tags: [],
    version: "bench",
  }),
  advertiseMs: ADVERT_MS,
  publish: () => Promise.resolve(undefined),
});
await compute.advertised;
const advertised = () =>
  Number(node.gossip(space.id)?.adverts().find((a) => a.node === node.did)?.runnerDetails?.kubernetes?.cpuMillis);
// The timed runs' pods may still be going away: wait for the whole node to be spare, and advertised so.
const idle = 16_000;
await eventually(async () => (await runner.refresh()).cpuMillis === idle, 120_000, "the cluster idle");
await eventually(() => advertised() === idle, 60_000, "the idle cluster advertised");
const handle = runner.start(spec(9999), store);
await running(handle.id, performance.now());
const seen = performance.now();
await eventually(() => advertised() < idle, 60_000, "the advert showing the Job");
report({
  bench: BENCH,
  metric: "capacity advert freshness after a pod runs",
  value: performance.now() - seen,
  unit: "ms",
  baseline: ADVERT_MS,
  note: "value: pod Running → the node's gossiped advert shows its request; baseline: the periodic advert interval",
});
await handle.stop();
await compute.stop();
await node.stop();

await vnode.close();
await containers.close();
await cp.stop();
await rm(state, { recursive: true, force: true });
