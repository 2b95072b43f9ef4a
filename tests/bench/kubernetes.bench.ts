/**
 * Submit → pod running through the kubernetes runner, against `kubectl
 * create -f` of the same Job (kubectl 1.33 from .ci/setup, a fresh process
 * each time) on the same control plane in the same run: both pods are bound by
 * the real scheduler to the Weft virtual node and run by its container
 * runner, and one observer polling the API every 20 ms sees both reach
 * Running. Target: ≤ 1.2× the direct create + 100 ms. Also how long after a
 * Job's pod runs the runner's capacity advert shows it (it re-reads at each
 * run start and end, and every refresh_seconds). Needs .ci/setup's control
 * plane and base image.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
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
import { VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { KUBE_BIN, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { baseImage } from "../containers/base-image.ts";
import { percentile, report } from "./report.ts";

const BENCH = "kubernetes";
const RUNS = Number(process.env.RUNS ?? 8);
const quiet = { debug() {}, info() {}, warn() {} };
const run = promisify(execFile);

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
  runner: containers,
  store,
  offer: { cpu: 16, memoryMb: 16384, pods: 32 },
  pods: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
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
    const file = join(state, `job-${i}.json`);
    await writeFile(file, JSON.stringify(jobManifest(s, cid, key, config)));
    const t0 = performance.now();
    await run(join(KUBE_BIN, "kubectl"), ["create", "-f", file, "--kubeconfig", cp.kubeconfig], {
      env: { ...process.env, HOME: state },
    });
    const ms = await running(key, t0);
    await cluster.batch.deleteNamespacedJob({
      name: `weft-${key}`,
      namespace: "weft",
      propagationPolicy: "Background",
    });
    return ms;
  };
  const [a, b] = [await viaRunner(), await direct()];
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
  note: "baseline: kubectl create -f of the same Job; target ≤ 1.2× + 100 ms",
});
report({
  bench: BENCH,
  metric: "submit → pod running p90 (runner)",
  value: percentile(bridged, 90),
  unit: "ms",
  baseline: percentile(raw, 90),
});

// Capacity freshness: from a Job's pod running to the runner's advert showing its request.
const idle = (await runner.refresh()).cpuMillis;
const handle = runner.start(spec(9999), store);
const t0 = performance.now();
await running(handle.id, t0);
const seen = performance.now();
await eventually(() => (runner.capacity?.cpuMillis ?? idle) < idle, 60_000, "the advert showing the Job");
report({
  bench: BENCH,
  metric: "capacity advert freshness after a pod runs",
  value: performance.now() - seen,
  unit: "ms",
  baseline: config.refreshSeconds * 1000,
  note: "baseline: the refresh interval, the bound without the re-read at run start/end",
});
await handle.stop();

await runner.close();
await vnode.close();
await containers.close();
await cp.stop();
await rm(state, { recursive: true, force: true });
