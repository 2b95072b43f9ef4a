/**
 * The kubernetes runner: the ManagedRunner for specs with `runner:
 * "kubernetes"`, each run a batch/v1 Job on one cluster. It keeps the
 * cluster's spare capacity fresh (read every few seconds, and at once when
 * a run starts, its pod is bound or it ends) so advertise() answers at once
 * and the node advertises again as soon as it changed, keeps its runs so
 * close() can stop them, and checks each spec before anything reaches the
 * API.
 */
import type { ContentStore, ManagedRunner, RunHandle, RunJob, RunnerHost, RunSpec } from "#protocol/runner";
import { runSpecCid } from "#protocol/runner";
import { messageOf, WeftError } from "#protocol";
import { advertDetails, type SpareCapacity, spareCapacity } from "./capacity.ts";
import { apiError, call, type Cluster, statusOf } from "./cluster.ts";
import { BASELINE_POLICY, baselinePolicy, isBaseline } from "./job-manifest.ts";
import type { KubernetesConfig } from "./config.ts";
import { KubeRun } from "./kube-run.ts";
import { Editors } from "./editor/editors.ts";
import { checkKubernetesSpec } from "./spec.ts";

export interface KubernetesRunner extends ManagedRunner {
  readonly kind: "kubernetes";
  /** The spare capacity last read (undefined before the first read). */
  readonly capacity: SpareCapacity | undefined;
  /** Read the cluster's spare capacity now. */
  refresh(): Promise<SpareCapacity>;
  /** The editors of its live runs that asked for one. */
  readonly editors: Editors;
}

/** Read what the cluster has to spare: Ready nodes, unfinished pods, RuntimeClasses. */
export async function readCapacity(cluster: Cluster, config: KubernetesConfig): Promise<SpareCapacity> {
  const [nodes, pods, classes] = await Promise.all([
    call("listing nodes", () => cluster.core.listNode()),
    call(
      "listing pods",
      () => cluster.core.listPodForAllNamespaces({ fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" }),
    ),
    call("listing RuntimeClasses", () => cluster.nodeApi.listRuntimeClass()).catch(() => ({ items: [] })),
  ]);
  return spareCapacity(
    nodes.items,
    pods.items,
    classes.items.map((c) => c.metadata?.name ?? "").filter(Boolean),
    config.tagLabels,
    config.tolerateVirtualNodes,
  );
}

/**
 * Make the namespace's baseline NetworkPolicy, or find it there. One under
 * its name that is not the baseline (edited, or someone else's) is refused,
 * saying so: Weft's pods would not be cut off.
 */
async function ensureBaseline(cluster: Cluster, config: KubernetesConfig): Promise<void> {
  const body = baselinePolicy(config);
  try {
    await cluster.networking.createNamespacedNetworkPolicy({ namespace: config.namespace, body });
    return;
  } catch (e) {
    if (statusOf(e) !== 409) throw apiError(`creating the NetworkPolicy ${config.namespace}/${BASELINE_POLICY}`, e);
  }
  const found = await call(
    `reading the NetworkPolicy ${config.namespace}/${BASELINE_POLICY}`,
    () => cluster.networking.readNamespacedNetworkPolicy({ name: BASELINE_POLICY, namespace: config.namespace }),
  );
  if (!isBaseline(found)) {
    throw new WeftError(
      "KubernetesError",
      "kubernetes/api",
      `the NetworkPolicy ${config.namespace}/${BASELINE_POLICY} is not Weft's baseline (no ingress, no egress for ` +
        `Weft's pods): no Job is made until it is deleted, so the runner can make it again`,
    );
  }
}

export function createKubernetesRunner(
  cluster: Cluster,
  config: KubernetesConfig,
  host: RunnerHost,
  options: { pollMs?: number } = {},
): KubernetesRunner {
  const runs = new Set<KubeRun>();
  const watchers = new Set<() => void>();
  let closed = false;
  let capacity: SpareCapacity | undefined;
  let reading: Promise<SpareCapacity> | undefined;
  const advertised = () => capacity ? JSON.stringify(advertDetails(capacity)) : "";
  const refresh = () => {
    reading ??= readCapacity(cluster, config).then((c) => {
      const before = advertised();
      capacity = c;
      if (advertised() !== before) { for (const w of watchers) w(); }
      return c;
    }).finally(() => reading = undefined);
    return reading;
  };
  // The namespace's baseline NetworkPolicy, made (or found to be Weft's) once; a failure is tried again next time.
  let baselineReady: Promise<void> | undefined;
  const baseline = () =>
    baselineReady ??= ensureBaseline(cluster, config).catch((e) => {
      baselineReady = undefined;
      throw e;
    });
  const refreshSoon = () =>
    void refresh().catch((e) => host.log.warn("could not read the cluster's capacity", { error: messageOf(e) }));
  const timer = setInterval(refreshSoon, config.refreshSeconds * 1000);
  timer.unref?.();
  const editors = new Editors(cluster, config);
  const ctx = {
    cluster,
    config,
    editors,
    pollMs: options.pollMs ?? 250,
    baseline,
    placed: refreshSoon,
    ended: (run: KubeRun) => {
      runs.delete(run);
      refreshSoon();
    },
  };
  return {
    kind: "kubernetes",
    editors,
    get capacity() {
      return capacity;
    },
    refresh,
    available: () => Promise.resolve(!closed),
    start(spec: RunSpec, store: ContentStore, job?: RunJob): RunHandle {
      const checked = checkKubernetesSpec(spec, config);
      const run = new KubeRun(checked, runSpecCid(checked).toString(), store, ctx, job);
      runs.add(run);
      if (closed) void run.stop("the runner is closed");
      else refreshSoon();
      return run;
    },
    advertise: () => ({ cluster: new URL(cluster.server).host, ...(capacity ? advertDetails(capacity) : {}) }),
    onAdvertChange(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    async warmUp() {
      await Promise.all([refresh(), baseline()]);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      watchers.clear();
      await Promise.all([...runs].map((r) => r.stop("the runner is closing")));
    },
  };
}
