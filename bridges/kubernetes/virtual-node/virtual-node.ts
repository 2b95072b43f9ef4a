/**
 * The mesh as a node of a cluster (the virtual-kubelet pattern): it
 * registers the Node `weft-<space>`, renews its Lease and status while it
 * runs, and runs the pods the cluster's scheduler binds to it — as the
 * mesh's container jobs, placed on any member (mesh-pods.ts), or on this
 * machine's container runner (localPods) — their images fetched by digest
 * from the mesh's store, reporting each pod's status (and the outputs it wrote, as an annotation)
 * back through the API and serving its log to the API server. A pod that is
 * deleted has its run stopped; a pod it cannot run is failed saying why.
 * When the process stops renewing, the cluster's node controller marks the
 * node NotReady and the cluster's rules take its pods elsewhere. A pod's
 * declared container ports are served as Unix sockets the port-forward
 * endpoint reaches (port-forward.ts), with no network in the pod.
 */
import type { Server } from "node:https";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Node, V1Pod, V1PodStatus } from "@kubernetes/client-node";
import { messageOf } from "#protocol";
import type { ContentStore, ManagedRunner, RunHandle, RunnerHost, RunSpec } from "#protocol/runner";
import { apiError, call, type Cluster, statusOf } from "../cluster.ts";
import { OUTPUTS_ANNOTATION } from "../job-manifest.ts";
import { kubeletServer } from "./kubelet-server.ts";
import { servePortForward } from "./port-forward.ts";
import { isContainerRunner } from "../../containers/runner.ts";
import { nodeLease, nodeObject, type NodeOffer, nodeStatus } from "./node-object.ts";
import { PodLog } from "./pod-logs.ts";
import type { ServingCert } from "./serving-cert.ts";
import { type PodDefaults, podRunSpec } from "./pod-spec.ts";
import { endedStatus, type PodContainer, refusedStatus, runningStatus } from "./pod-status.ts";

/** A pod as its run is placed. */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/**
 * A pod's run; `started`, for one placed before it starts (a mesh job
 * waiting for a member to take it), resolves when it starts or ends — the
 * pod stays Pending until then.
 */
export type PodRunHandle = RunHandle & {
  readonly started?: Promise<void>;
  /** The mesh job (task id) running the pod, for a pod run as one (mesh-pods.ts). */
  readonly job?: Promise<string>;
};

/** Where a bound pod's run goes: the mesh's container jobs (mesh-pods.ts) or this machine's runner (localPods). */
export interface PodRunner {
  /** `ports`: a host directory where the pod's declared ports are served as sockets (servesPorts only). */
  start(spec: RunSpec, pod: PodRef, ports?: string): PodRunHandle;
  /** Its runs are on this machine's container runner, which can serve a pod's ports (the editor pod). */
  readonly servesPorts?: boolean;
  /**
   * Its runs outlive this process (the mesh's jobs, keyed by the pod): after
   * a restart a pod already Running is followed again rather than failed.
   */
  readonly followsRestarts: boolean;
}

/** Pods run on this machine's container runner, images and outputs in `store`; a restart loses them. */
export function localPods(runner: ManagedRunner, store: ContentStore): PodRunner {
  return {
    start: (spec, _pod, ports) => {
      if (ports === undefined) return runner.start(spec, store);
      if (!isContainerRunner(runner)) throw new Error("this node's runner cannot serve a pod's ports");
      return runner.start(spec, store, undefined, { ports });
    },
    servesPorts: isContainerRunner(runner),
    followsRestarts: false,
  };
}

export interface VirtualNodeOptions {
  cluster: Cluster;
  /** The Node's name (nodeNameFor(space)). */
  name: string;
  /** Where the pods run. */
  pods: PodRunner;
  offer: NodeOffer;
  /** Limits of pods that name none, and whether this node lets pods have the network. */
  defaults: PodDefaults;
  /** Where the API server reaches this node's log endpoint (it listens there). Default 127.0.0.1. */
  address?: string;
  /** The log endpoint's port; 0 picks one. */
  port?: number;
  /** Its serving certificate, and the CA the API server's kubelet client certificate is signed by. */
  tls: ServingCert & { clientCa: Buffer };
  /** The Lease's duration; it is renewed four times in it. Default 40 s. */
  leaseSeconds?: number;
  /** How often bound pods are looked at. Default 250 ms. */
  pollMs?: number;
  version?: string;
  log: RunnerHost["log"];
}

/** How the virtual node stands, for its advert (the Clusters view). */
export interface VirtualNodeStatus {
  name: string;
  /** What it offers the cluster: its capacity, and its allocatable (the same). */
  offer: NodeOffer;
  /** Pods it runs now. */
  running: number;
  /** Its Lease and status were renewed within the Lease's duration. */
  ready: boolean;
  /** Unix ms of its last renewal, if any. */
  renewedAt?: number;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  container: PodContainer;
  log: PodLog;
  handle?: PodRunHandle;
  ended?: boolean;
  /** The container ports the pod declares, and the host directory their sockets are in (none declared: none). */
  ports: number[];
  portsDir?: string;
}

export class VirtualNode {
  readonly name: string;
  readonly #o: VirtualNodeOptions;
  readonly #address: string;
  readonly #runs = new Map<string, PodRun>();
  #server?: Server;
  #port = 0;
  #since = new Date();
  #renewedAt?: number;
  #timers: ReturnType<typeof setInterval>[] = [];
  #polling?: Promise<void>;
  #closed = false;

  constructor(options: VirtualNodeOptions) {
    this.#o = options;
    this.name = options.name;
    this.#address = options.address ?? "127.0.0.1";
  }

  status(now = Date.now()): VirtualNodeStatus {
    const leaseMs = (this.#o.leaseSeconds ?? 40) * 1000;
    return {
      name: this.name,
      offer: this.#o.offer,
      running: [...this.#runs.values()].filter((r) => r.handle && !r.ended).length,
      ready: !this.#closed && this.#renewedAt !== undefined && now - this.#renewedAt <= leaseMs,
      ...(this.#renewedAt !== undefined ? { renewedAt: this.#renewedAt } : {}),
    };
  }

  /** The mesh job running each pod it runs as one, by pod uid (a job not made yet, or refused, is left out). */
  async jobs(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [uid, run] of this.#runs) {
      const job = await run.handle?.job?.catch(() => undefined);
      if (job) out.set(uid, job);
    }
    return out;
  }

  /** The port its log endpoint listens on. */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const server = kubeletServer(this.#o.tls, (ns, pod, container) => {
      const run = [...this.#runs.values()].find((r) => r.namespace === ns && r.name === pod);
      return run?.container.name === container ? run.log : undefined;
    });
    servePortForward(server, (ns, pod, port) => {
      const run = [...this.#runs.values()].find((r) => r.namespace === ns && r.name === pod);
      return run?.portsDir && run.ports.includes(port) ? join(run.portsDir, String(port)) : undefined;
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#o.port ?? 0, this.#address, () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as { port: number }).port;
    await this.#register();
    if (!this.#o.pods.followsRestarts) await this.#failOrphans();
    const leaseMs = (this.#o.leaseSeconds ?? 40) * 1000;
    this.#timers.push(setInterval(() => void this.#heartbeat(), Math.max(500, leaseMs / 4)));
    this.#timers.push(setInterval(() => this.#poll(), this.#o.pollMs ?? 250));
    this.#o.log.info("virtual node registered", { node: this.name, logPort: this.#port });
  }

  /** Create the Node (or take over the one left by an earlier run), its status and its Lease. */
  async #register(): Promise<void> {
    const { core } = this.#o.cluster;
    const wanted = nodeObject(this.name);
    try {
      await core.createNode({ body: wanted });
    } catch (e) {
      if (statusOf(e) !== 409) throw apiError(`registering node ${this.name}`, e);
      const existing = await call("reading the node", () => core.readNode({ name: this.name }));
      existing.metadata = {
        ...existing.metadata,
        labels: { ...existing.metadata?.labels, ...wanted.metadata?.labels },
      };
      existing.spec = { ...existing.spec, taints: wanted.spec?.taints };
      await call("updating the node", () => core.replaceNode({ name: this.name, body: existing }));
    }
    this.#since = new Date();
    await this.#heartbeat(true);
  }

  /** Renew the Lease and report the node's status; a failure is logged and tried again next beat. */
  async #heartbeat(first = false): Promise<void> {
    if (this.#closed && !first) return;
    const { coordination } = this.#o.cluster;
    const now = new Date();
    try {
      const node = await this.#reportStatus(now);
      const lease = nodeLease(this.name, node.metadata?.uid, this.#o.leaseSeconds ?? 40, now);
      try {
        const current = await coordination.readNamespacedLease({ name: this.name, namespace: "kube-node-lease" });
        lease.metadata!.resourceVersion = current.metadata?.resourceVersion;
        await coordination.replaceNamespacedLease({ name: this.name, namespace: "kube-node-lease", body: lease });
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
        await coordination.createNamespacedLease({ namespace: "kube-node-lease", body: lease });
      }
      this.#renewedAt = now.getTime();
    } catch (e) {
      if (first) throw apiError(`reporting node ${this.name}'s status`, e);
      this.#o.log.warn("the virtual node could not renew its lease and status", { error: messageOf(e) });
    }
  }

  /** Write the node's status, reading it afresh when the node controller changed the node meanwhile. */
  async #reportStatus(now: Date): Promise<V1Node> {
    const { core } = this.#o.cluster;
    for (let attempt = 0;; attempt++) {
      const node = await core.readNode({ name: this.name });
      node.status = nodeStatus(this.#o.offer, this.#address, this.#port, this.#since, now, this.#o.version ?? "dev");
      try {
        return await core.replaceNodeStatus({ name: this.name, body: node });
      } catch (e) {
        if (statusOf(e) !== 409 || attempt >= 5) throw e;
      }
    }
  }

  /** Pods bound here that claim to run but have no run in this process (it restarted): their runs are lost. */
  async #failOrphans(): Promise<void> {
    for (const pod of await this.#boundPods()) {
      const phase = pod.status?.phase;
      if (phase !== "Running" || pod.metadata?.deletionTimestamp) continue;
      const c = this.#containerOf(pod);
      await this.#report(
        pod,
        refusedStatus(c, this.#address, "the Weft virtual node restarted; its run was lost", new Date()),
      )
        .catch(() => {});
    }
  }

  async #boundPods(): Promise<V1Pod[]> {
    const list = await this.#o.cluster.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.name}` });
    return list.items;
  }

  #poll(): void {
    if (this.#polling || this.#closed) return;
    this.#polling = this.#sync()
      .catch((e) => this.#o.log.warn("the virtual node could not read its pods", { error: messageOf(e) }))
      .finally(() => this.#polling = undefined);
  }

  /** Start what is newly bound here, stop what was deleted, forget what is gone. */
  async #sync(): Promise<void> {
    const pods = await this.#boundPods();
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? "";
      seen.add(uid);
      const run = this.#runs.get(uid);
      if (pod.metadata?.deletionTimestamp) {
        await this.#remove(pod, run);
        continue;
      }
      const phase = pod.status?.phase;
      const adopt = phase === "Running" && this.#o.pods.followsRestarts;
      if (!run && (phase === undefined || phase === "Pending" || adopt)) await this.#start(pod);
    }
    for (const [uid, run] of this.#runs) {
      if (seen.has(uid)) continue;
      this.#runs.delete(uid);
      void run.handle?.stop("its pod was deleted");
    }
  }

  #containerOf(pod: V1Pod): PodContainer {
    const c = pod.spec?.containers?.[0];
    return {
      name: c?.name ?? "",
      image: c?.image ?? "",
      imageId: /sha256:[0-9a-f]{64}$/.exec(c?.image ?? "")?.[0] ?? "",
    };
  }

  async #start(pod: V1Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const container = this.#containerOf(pod);
    const run: PodRun = {
      uid: pod.metadata?.uid ?? "",
      namespace,
      name,
      container,
      log: new PodLog(),
      ports: (pod.spec?.containers?.[0]?.ports ?? []).map((p) => p.containerPort),
    };
    this.#runs.set(run.uid, run);
    let handle: PodRunHandle;
    try {
      const policies = await this.#o.cluster.networking.listNamespacedNetworkPolicy({ namespace });
      const spec = podRunSpec(pod, policies.items, this.#o.defaults);
      if (run.ports.length > 0) {
        if (!this.#o.pods.servesPorts) throw new Error("this node's runner cannot serve a pod's ports");
        run.portsDir = await mkdtemp(join(tmpdir(), "weft-pod-ports-"));
        handle = this.#o.pods.start(spec, run, run.portsDir);
      } else {
        handle = this.#o.pods.start(spec, run);
      }
    } catch (e) {
      if (run.portsDir) await rm(run.portsDir, { recursive: true, force: true });
      run.log.push(messageOf(e));
      run.log.end();
      await this.#report(pod, refusedStatus(container, this.#address, messageOf(e), new Date())).catch((err) =>
        this.#o.log.warn("could not fail a pod", { pod: `${namespace}/${name}`, error: messageOf(err) })
      );
      return;
    }
    run.handle = handle;
    this.#o.log.info("running a pod", { pod: `${namespace}/${name}`, run: handle.id });
    const running = (handle.started ?? Promise.resolve()).then(() =>
      this.#report(pod, runningStatus(container, this.#address, new Date())).catch((e) =>
        this.#o.log.warn("could not report a pod running", { pod: `${namespace}/${name}`, error: messageOf(e) })
      )
    );
    void (async () => {
      // The container's output only, as a kubelet keeps it; why a run ended goes in the pod's status.
      for await (const line of handle.logs) if (line.stream !== "system") run.log.push(line.text);
    })().finally(() => run.log.end());
    void handle.done.then(async (result) => {
      run.ended = true;
      if (run.portsDir) await rm(run.portsDir, { recursive: true, force: true });
      if (!this.#runs.has(run.uid) || result.status === "stopped") return;
      await running;
      try {
        if (result.outputs.length > 0) await this.#annotateOutputs(run, JSON.stringify(result.outputs));
        await this.#report({ metadata: { name, namespace } }, endedStatus(container, this.#address, result));
      } catch (e) {
        this.#o.log.warn("could not report a pod's end", { pod: `${namespace}/${name}`, error: messageOf(e) });
      }
    });
  }

  /** Record the outputs a pod's run wrote on the pod (before its final status, so whoever sees it ended sees them). */
  async #annotateOutputs(run: PodRun, outputs: string): Promise<void> {
    const { core } = this.#o.cluster;
    for (let attempt = 0;; attempt++) {
      const pod = await core.readNamespacedPod({ name: run.name, namespace: run.namespace });
      pod.metadata = { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [OUTPUTS_ANNOTATION]: outputs } };
      try {
        await core.replaceNamespacedPod({ name: run.name, namespace: run.namespace, body: pod });
        return;
      } catch (e) {
        if (statusOf(e) !== 409 || attempt >= 5) throw e;
      }
    }
  }

  /** Write a pod's status, reading it afresh when someone else wrote it meanwhile. */
  async #report(pod: V1Pod, status: V1PodStatus): Promise<void> {
    const { core } = this.#o.cluster;
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "default";
    for (let attempt = 0;; attempt++) {
      const current = await core.readNamespacedPod({ name, namespace });
      current.status = status;
      try {
        await core.replaceNamespacedPodStatus({ name, namespace, body: current });
        return;
      } catch (e) {
        if (statusOf(e) !== 409 || attempt >= 5) throw e;
      }
    }
  }

  /** A pod deleted from the cluster: stop its run, then let the deletion finish (a kubelet's last word). */
  async #remove(pod: V1Pod, run: PodRun | undefined): Promise<void> {
    if (run) {
      this.#runs.delete(run.uid);
      await run.handle?.stop("its pod was deleted");
    }
    await this.#o.cluster.core.deleteNamespacedPod({
      name: pod.metadata?.name ?? "",
      namespace: pod.metadata?.namespace ?? "default",
      gracePeriodSeconds: 0,
    }).catch((e) => {
      if (statusOf(e) !== 404) this.#o.log.warn("could not finish deleting a pod", { error: messageOf(e) });
    });
  }

  /** Stop renewing and running: runs are stopped; the Node stays, to go NotReady as a lost node does. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#polling;
    await Promise.all([...this.#runs.values()].map((r) => r.handle?.stop("the virtual node is closing")));
    await new Promise<void>((r) => this.#server ? this.#server.close(() => r()) : r());
    this.#server?.closeAllConnections();
  }
}
