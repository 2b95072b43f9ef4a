/**
 * The kubernetes runner plug-in, as the kubernetes bridge (bridge.ts) makes
 * its runner and the runner contract suite tests it: the cluster settings
 * are parsed, the cluster they name is reached (its namespace read, so a
 * wrong kubeconfig, token or namespace is said at start, not at the first
 * job), and the runner made — or a plain sentence saying why there is no
 * cluster to use.
 */
import type { RunnerPlugin } from "#protocol/runner";
import { call, connect } from "./cluster.ts";
import { type KubernetesConfig, parseKubernetesConfig } from "./config.ts";
import { createKubernetesRunner } from "./runner.ts";

export const kubernetesPlugin: RunnerPlugin<KubernetesConfig> = {
  kind: "kubernetes",
  description:
    "runs jobs as batch/v1 Jobs on a Kubernetes cluster: needs a kubeconfig or an in-cluster service account",
  parseConfig: (raw) => parseKubernetesConfig(raw),
  async create(config, host) {
    const cluster = connect(config);
    if ("unavailable" in cluster) return cluster;
    try {
      await call(
        `reading namespace ${config.namespace}`,
        () => cluster.core.readNamespace({ name: config.namespace }),
      );
    } catch (e) {
      return { unavailable: `the cluster at ${cluster.server} cannot be used: ${(e as Error).message}` };
    }
    host.log.info(`kubernetes runner: Jobs in ${config.namespace} on ${cluster.server}`);
    return createKubernetesRunner(cluster, config, host);
  },
};
