/**
 * The editors of a kubernetes runner's live runs: made when a run that asks
 * for one has its Job, found by the run's space and task (what a peer's
 * gateway looks them up by), and deleted when the run ends, is stopped or
 * loses its lease (the run's end deletes its Job, and the cluster's garbage
 * collector would take the pod with it even if this process were gone). A
 * restarted runner finds the editor its Job already has (the create is a 409).
 */
import type { V1Job } from "@kubernetes/client-node";
import type { Duplex } from "node:stream";
import { messageOf, WeftError } from "#protocol";
import type { RunJob, RunSpec } from "#protocol/runner";
import { apiError, type Cluster, statusOf } from "../cluster.ts";
import type { KubernetesConfig } from "../config.ts";
import { EDITOR_PORT, editorPod, editorPodName } from "./editor-pod.ts";
import { podConnection } from "./pod-tunnel.ts";

export interface Editor {
  /** The run's job of the mesh (absent for a run started outside the scheduler). */
  space?: string;
  task?: string;
  namespace: string;
  pod: string;
  /** A fresh connection to code-server in the pod, through the API server's port-forward. */
  connect(): Promise<Duplex>;
}

export class Editors {
  readonly #cluster: Cluster;
  readonly #config: KubernetesConfig;
  readonly #live = new Map<string, Editor>();

  constructor(cluster: Cluster, config: KubernetesConfig) {
    this.#cluster = cluster;
    this.#config = config;
  }

  /** The live editor of the run of `task` in `space`, if it has one. */
  find(space: string, task: string): Editor | undefined {
    for (const e of this.#live.values()) if (e.space === space && e.task === task) return e;
    return undefined;
  }

  /** Make the editor pod of the run whose Job is `job` (or find the one made for it before). */
  async open(spec: RunSpec, job: V1Job, key: string, mesh?: RunJob): Promise<Editor> {
    const image = this.#config.editorImage;
    if (!image) {
      throw new WeftError("KubernetesError", "kubernetes/api", "no editor_image is configured for this cluster");
    }
    const body = editorPod(spec, job, key, { ...this.#config, editorImage: image }, mesh);
    const namespace = this.#config.namespace;
    const pod = editorPodName(job.metadata?.name ?? "");
    try {
      await this.#cluster.core.createNamespacedPod({ namespace, body });
    } catch (e) {
      if (statusOf(e) !== 409) throw apiError(`creating the editor pod ${namespace}/${pod}`, e);
    }
    const editor: Editor = {
      ...(mesh ? { space: mesh.space, task: mesh.task } : {}),
      namespace,
      pod,
      connect: () => podConnection(this.#cluster, namespace, pod, EDITOR_PORT),
    };
    this.#live.set(key, editor);
    return editor;
  }

  /** Forget the run's editor and delete its pod (already gone is fine); says what failed, never throws. */
  async close(key: string, warn: (text: string) => void): Promise<void> {
    const editor = this.#live.get(key);
    if (!editor) return;
    this.#live.delete(key);
    await this.#cluster.core.deleteNamespacedPod({
      name: editor.pod,
      namespace: editor.namespace,
      gracePeriodSeconds: 0,
    })
      .catch((e) => {
        if (statusOf(e) !== 404) {
          warn(`could not delete the editor pod ${editor.namespace}/${editor.pod}: ${messageOf(e)}`);
        }
      });
  }
}
