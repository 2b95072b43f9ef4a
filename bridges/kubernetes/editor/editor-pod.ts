/**
 * The pod a run that asks for an editor (`"editor": true` in its spec) gets
 * beside its Job: code-server on the run's working tree (its source tree,
 * at /src), on a Weft virtual node, which alone can hand it the tree from
 * the mesh's store. It has no network and no port on any network: it
 * serves its one port as a Unix socket that only the API server's
 * port-forward reaches (virtual-node/port-forward.ts), and the bridge's
 * peer lets only the task's holder and reviewers through (editor-gateway).
 * code-server's own login is off: who may come in is decided there, by
 * UCAN, not by a password in the pod. The Job owns the pod, so the
 * cluster's garbage collector removes it with the Job even if the bridge
 * is gone; its wall time is the run's.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { RunJob, RunSpec } from "#protocol/runner";
import { PORTS_DIR } from "../../containers/backend.ts";
import type { KubernetesConfig } from "../config.ts";
import {
  INPUTS_ANNOTATION,
  MANAGED_BY,
  podFiles,
  SPACE_ANNOTATION,
  TASK_ANNOTATION,
  VIRTUAL_NODE_TAINT,
} from "../job-manifest.ts";

/** The port code-server serves in the pod (as the socket PORTS_DIR/EDITOR_PORT on a Weft virtual node). */
export const EDITOR_PORT = 8080;
/** Labels the editor pod of the run with this key (not the run-key label: the run's egress policy must not select it). */
export const EDITOR_OF_LABEL = "weft.dev/editor-of";
const CONTAINER = "editor";
/** code-server with its extensions, workbench and caches: what it needs to open a tree. */
const MEMORY = "1024Mi";

export const editorPodName = (jobName: string) => `${jobName}-editor`;

export function editorPod(
  spec: RunSpec,
  job: V1Job,
  key: string,
  config: KubernetesConfig & { editorImage: string },
  mesh?: RunJob,
): V1Pod {
  const jobName = job.metadata?.name ?? "";
  const deadline = Math.max(1, Math.ceil(spec.limits.wallMs / 1000));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: editorPodName(jobName),
      namespace: config.namespace,
      labels: { "app.kubernetes.io/managed-by": MANAGED_BY, [EDITOR_OF_LABEL]: key },
      annotations: {
        [INPUTS_ANNOTATION]: JSON.stringify({ ...podFiles(spec), inputs: [] }),
        ...(mesh ? { [SPACE_ANNOTATION]: mesh.space, [TASK_ANNOTATION]: mesh.task } : {}),
      },
      ownerReferences: [{
        apiVersion: "batch/v1",
        kind: "Job",
        name: jobName,
        uid: job.metadata?.uid ?? "",
        blockOwnerDeletion: false,
      }],
    },
    spec: {
      activeDeadlineSeconds: deadline,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      tolerations: [{ key: VIRTUAL_NODE_TAINT, operator: "Exists", effect: "NoSchedule" }],
      nodeSelector: { [VIRTUAL_NODE_TAINT]: "true" },
      containers: [{
        name: CONTAINER,
        image: config.editorImage,
        command: [
          "code-server",
          "--auth",
          "none",
          "--socket",
          `${PORTS_DIR}/${EDITOR_PORT}`,
          "--disable-telemetry",
          "--disable-update-check",
          "--disable-workspace-trust",
          "--user-data-dir",
          "/tmp/code-server/data",
          "--extensions-dir",
          "/tmp/code-server/extensions",
          "/src",
        ],
        env: [{ name: "HOME", value: "/tmp" }],
        ports: [{ name: "http", containerPort: EDITOR_PORT }],
        resources: { requests: { cpu: `${config.cpuMillis}m`, memory: MEMORY }, limits: { memory: MEMORY } },
        securityContext: { allowPrivilegeEscalation: false },
      }],
    },
  };
}
