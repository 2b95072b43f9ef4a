/**
 * The connection to one cluster's API: a kubeconfig file (and context) or
 * the in-cluster service account, and the typed API groups the runner and
 * the virtual node use. Errors from the API become WeftErrors that say
 * which request failed and what the server answered.
 */
import * as k8s from "@kubernetes/client-node";
import { WeftError } from "#protocol";

export interface Cluster {
  readonly kc: k8s.KubeConfig;
  readonly server: string;
  readonly core: k8s.CoreV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly networking: k8s.NetworkingV1Api;
  readonly nodeApi: k8s.NodeV1Api;
  readonly coordination: k8s.CoordinationV1Api;
}

export interface ClusterSource {
  kubeconfig?: string;
  context?: string;
}

/** The cluster a config names, or why there is none to talk to. */
export function connect(source: ClusterSource): Cluster | { unavailable: string } {
  const kc = new k8s.KubeConfig();
  try {
    if (source.kubeconfig !== undefined) kc.loadFromFile(source.kubeconfig);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else return { unavailable: "no kubeconfig is set and this peer does not run in a cluster" };
    if (source.context !== undefined) kc.setCurrentContext(source.context);
  } catch (e) {
    return { unavailable: `its kubeconfig cannot be read: ${(e as Error).message}` };
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) return { unavailable: "its kubeconfig names no cluster for its current context" };
  return {
    kc,
    server: cluster.server,
    core: kc.makeApiClient(k8s.CoreV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    nodeApi: kc.makeApiClient(k8s.NodeV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

/** The HTTP status of a failed API call (undefined when it never got an answer). */
export function statusOf(e: unknown): number | undefined {
  return e instanceof k8s.ApiException ? e.code : undefined;
}

/** A failed API call as a WeftError naming what was asked and the server's message. */
export function apiError(what: string, e: unknown): WeftError {
  let detail = (e as Error)?.message ?? String(e);
  if (e instanceof k8s.ApiException) {
    const body = typeof e.body === "string" ? e.body : JSON.stringify(e.body);
    let message: string | undefined;
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = body;
    }
    detail = `HTTP ${e.code}: ${(message ?? "").slice(0, 500)}`;
  }
  return new WeftError("KubernetesError", "kubernetes/api", `${what} failed: ${detail}`, { cause: e });
}

/** Run an API call; a failure becomes apiError(what). */
export async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    throw apiError(what, e);
  }
}
