/**
 * What a run becomes on the cluster: a batch/v1 Job (one pod, no retries —
 * retrying is the mesh's business — its wall-time limit as
 * activeDeadlineSeconds, its memory as request and limit, no service-account
 * token), the namespace's baseline NetworkPolicy that cuts every Weft pod
 * off, and the policy that opens a run's egress when it may have the
 * network. The Job is named by the run's key, so after a restart a second
 * create of it is a 409 and the runner follows the Job already there.
 */
import type { V1Job, V1NetworkPolicy } from "@kubernetes/client-node";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { RunJob, RunSpec } from "#protocol/runner";
import type { KubernetesConfig } from "./config.ts";

export const MANAGED_BY = "weft";
export const RUN_KEY_LABEL = "weft.dev/run-key";
export const TASK_LABEL = "weft.dev/task";
export const SPACE_ANNOTATION = "weft.dev/space";
export const TASK_ANNOTATION = "weft.dev/task";
export const SPEC_ANNOTATION = "weft.dev/spec";
/** Where a Weft virtual node writes the outputs a pod produced (see virtual-node/pod-status.ts). */
export const OUTPUTS_ANNOTATION = "weft.dev/outputs";
/**
 * The files a run reads (its inputs and source tree, by CID, as JSON): a Weft
 * virtual node hands them to its container runner, which fetches them from the mesh.
 */
export const INPUTS_ANNOTATION = "weft.dev/inputs";
/** The taint Weft virtual nodes carry, so only pods that mean to land on the mesh do. */
export const VIRTUAL_NODE_TAINT = "weft.dev/virtual-node";
/** The one container of a run's pod. */
export const CONTAINER = "run";
/** Where a run's pod writes its outputs: where a container job writes them. */
export const OUTPUTS_DIR = "/outputs";

/**
 * A run's key: the same job of the mesh (space, task) with the same spec
 * always has the same key; a run started outside the scheduler gets its own.
 */
export function runKey(specCid: string, job?: RunJob): string {
  const id = job ? `${job.space}\n${job.task}\n${specCid}` : `${specCid}\n${crypto.randomUUID()}`;
  return bytesToHex(sha256(new TextEncoder().encode(id))).slice(0, 40);
}

/** The Job's (and NetworkPolicy's) name: derived from the key, so a second create of the same run is a 409. */
export const jobName = (key: string) => `weft-${key}`;

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function labels(key: string, job?: RunJob): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": MANAGED_BY,
    [RUN_KEY_LABEL]: key,
    ...(job && LABEL_VALUE.test(job.task) ? { [TASK_LABEL]: job.task } : {}),
  };
}

export function jobManifest(
  spec: RunSpec,
  specCid: string,
  key: string,
  config: KubernetesConfig,
  job?: RunJob,
): V1Job {
  const name = jobName(key);
  const memory = `${spec.limits.memoryMb}Mi`;
  const podLabels = labels(key, job);
  const deadline = Math.max(1, Math.ceil(spec.limits.wallMs / 1000));
  // A run with files only a Weft virtual node can give it must land on one.
  const files = spec.inputs.length > 0 || spec.source !== undefined;
  const podAnnotations = {
    [SPEC_ANNOTATION]: specCid,
    ...(files ? { [INPUTS_ANNOTATION]: JSON.stringify(podFiles(spec)) } : {}),
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: config.namespace,
      labels: podLabels,
      annotations: {
        [SPEC_ANNOTATION]: specCid,
        ...(job ? { [SPACE_ANNOTATION]: job.space, [TASK_ANNOTATION]: job.task } : {}),
      },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: deadline,
      template: {
        metadata: { labels: podLabels, annotations: podAnnotations },
        spec: {
          activeDeadlineSeconds: deadline,
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(config.tolerateVirtualNodes || files
            ? { tolerations: [{ key: VIRTUAL_NODE_TAINT, operator: "Exists", effect: "NoSchedule" }] }
            : {}),
          ...(files ? { nodeSelector: { [VIRTUAL_NODE_TAINT]: "true" } } : {}),
          containers: [{
            name: CONTAINER,
            image: spec.program,
            ...(spec.args.length > 0 ? { command: spec.args } : {}),
            env: spec.env.map((e) => ({ name: e.name, value: e.value })),
            resources: {
              requests: { cpu: `${config.cpuMillis}m`, memory },
              limits: { memory },
            },
            securityContext: { allowPrivilegeEscalation: false },
            volumeMounts: [{ name: "outputs", mountPath: OUTPUTS_DIR }],
          }],
          volumes: [{ name: "outputs", emptyDir: { sizeLimit: `${Math.max(1, spec.limits.outputBytes)}` } }],
        },
      },
    },
  };
}

/** What INPUTS_ANNOTATION carries: the spec's inputs and source tree. */
export function podFiles(spec: RunSpec): Pick<RunSpec, "inputs" | "source"> {
  return { inputs: spec.inputs, ...(spec.source ? { source: spec.source } : {}) };
}

/** The namespace's one NetworkPolicy that cuts every Weft pod off: made once, before the runner's first Job. */
export const BASELINE_POLICY = "weft-deny-all";

/**
 * No ingress and no egress for any pod Weft makes in the namespace: in
 * place before the first Job, so a pod is cut off from its first instant
 * and a run that may not have the network needs no policy of its own (its
 * Job is the one call before its pod exists).
 */
export function baselinePolicy(config: KubernetesConfig): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: BASELINE_POLICY,
      namespace: config.namespace,
      labels: { "app.kubernetes.io/managed-by": MANAGED_BY },
    },
    spec: {
      podSelector: { matchLabels: { "app.kubernetes.io/managed-by": MANAGED_BY } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [],
    },
  };
}

/** Whether a policy found under BASELINE_POLICY's name is the baseline (someone else's is not trusted). */
export function isBaseline(policy: V1NetworkPolicy): boolean {
  const have = policy.spec;
  return JSON.stringify(have?.podSelector?.matchLabels) ===
      JSON.stringify({ "app.kubernetes.io/managed-by": MANAGED_BY }) &&
    [...(have?.policyTypes ?? [])].sort().join() === "Egress,Ingress" &&
    (have?.ingress ?? []).length === 0 && (have?.egress ?? []).length === 0;
}

/**
 * A run that may have the network (the scheduler checked the creator's
 * capability): its egress opened on top of the baseline, which still denies
 * all ingress. Made before its Job, so the pod has the network it may have
 * from its start.
 */
export function egressPolicy(key: string, config: KubernetesConfig, job?: RunJob): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: jobName(key), namespace: config.namespace, labels: labels(key, job) },
    spec: {
      podSelector: { matchLabels: { [RUN_KEY_LABEL]: key } },
      policyTypes: ["Egress"],
      egress: [{}],
    },
  };
}
