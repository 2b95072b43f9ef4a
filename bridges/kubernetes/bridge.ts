/**
 * The Kubernetes bridge: a cluster joins the mesh as a node of its own,
 * under the bridge's DID and what members delegated to it. It makes the
 * kubernetes runner (plugin.ts: the cluster reached, its namespace read)
 * and has its host run the mesh's jobs of kind `kubernetes` on it as the
 * bridge: the cluster's spare capacity advertised, each job claimed,
 * started, renewed and its result and provenance recorded, all signed by
 * the bridge's key — never the node's — so a member sees which cluster ran
 * what, and revoking the bridge's delegation stops it everywhere.
 */
import type { Bridge, BridgeContext, BridgeJobs, BridgeKind } from "#protocol/bridge";
import { WeftError } from "#protocol";
import { Commands } from "#protocol/ucan";
import { type KubernetesBridgeConfig, parseKubernetesBridgeConfig } from "./config.ts";
import type { KubernetesRunner } from "./runner.ts";
import { virtualNodeDetails } from "./virtual-node/advert-details.ts";
import type { VirtualNode } from "./virtual-node/virtual-node.ts";
import type { Editors } from "./editor/editors.ts";
import type { VirtualNodeReport } from "./virtual-node/node-report.ts";

/** The virtual nodes a bridge runs, as its peer's operator sees and operates them (`weft kube node …`). */
export interface VirtualNodes {
  list(): Promise<VirtualNodeReport[]>;
  /** Cordon or uncordon one of them; undefined when `name` is none of its own. */
  cordon(name: string, cordoned: boolean): Promise<VirtualNodeReport | undefined>;
}

/**
 * What a member grants the bridge for it to serve a space: advertise, claim
 * (and comment/close), run; and, for its virtual node's pods, create and
 * cancel container jobs.
 */
const COMMANDS = [
  Commands.capacityAdvertise,
  Commands.taskClaim,
  Commands.taskComment,
  Commands.taskClose,
  Commands.runKubernetes,
  Commands.taskCreate,
  Commands.taskCancel,
  Commands.runContainer,
];

class KubernetesBridge implements Bridge {
  readonly #config: KubernetesBridgeConfig;
  #jobs?: BridgeJobs;
  #node?: VirtualNode;
  #runner?: KubernetesRunner;
  #virtualNodes?: VirtualNodes;

  constructor(config: KubernetesBridgeConfig) {
    this.#config = config;
  }

  async start(context: BridgeContext): Promise<void> {
    if (!context.runJobs) {
      throw new WeftError(
        "Unavailable",
        "kubernetes/unavailable",
        "the kubernetes bridge runs jobs, and this host runs none: run it on a peer",
      );
    }
    const log = {
      debug: () => {},
      info: (m: string, f?: Record<string, unknown>) => context.log.info(m, { bridge: context.name, ...f }),
      warn: (m: string, f?: Record<string, unknown>) => context.log.warn(m, { bridge: context.name, ...f }),
    };
    // The cluster's client (@kubernetes/client-node, ~0.6 s of CPU to load) comes in when the bridge starts, not
    // when weft.toml is read: every `weft` command reads it.
    const { kubernetesPlugin } = await import("./plugin.ts");
    const made = await kubernetesPlugin.create(this.#config.cluster, {
      ...(context.dir ? { stateDir: context.dir } : {}),
      log,
    });
    if ("unavailable" in made) {
      throw new WeftError(
        "Unavailable",
        "kubernetes/unavailable",
        `the kubernetes bridge cannot start: ${made.unavailable}`,
      );
    }
    const runner = made as KubernetesRunner;
    this.#runner = runner;
    // The virtual node, once started, travels in the cluster's advert (the Clusters view shows both).
    const advertised = {
      ...runner,
      advertise: () => ({ ...runner.advertise(), ...(this.#node ? virtualNodeDetails(this.#node.status()) : {}) }),
    };
    this.#jobs = context.runJobs([advertised], {
      slots: this.#config.slots,
      offer: () => {
        const c = runner.capacity;
        const gpus = c ? Object.values(c.gpus).reduce((a, b) => a + b, 0) : 0;
        return {
          cpu: { cores: Math.floor((c?.cpuMillis ?? 0) / 1000), load: 0 },
          memoryMb: { total: c?.memoryMb ?? 0, free: c?.memoryMb ?? 0 },
          gpus,
          tags: c?.tags ?? [],
        };
      },
    });
    context.log.info("the cluster joins the mesh as the bridge", {
      bridge: context.name,
      did: context.did,
      namespace: this.#config.cluster.namespace,
      slots: this.#config.slots,
    });
    const vn = this.#config.virtualNode;
    if (!vn) return;
    const { connect } = await import("./cluster.ts");
    const { startBridgeNode } = await import("./virtual-node/bridge-node.ts");
    const { nodeReport, setCordoned } = await import("./virtual-node/node-report.ts");
    const cluster = connect(this.#config.cluster);
    if ("unavailable" in cluster) throw new WeftError("Unavailable", "kubernetes/unavailable", cluster.unavailable);
    try {
      this.#node = await startBridgeNode(cluster, vn, context, log);
    } catch (e) {
      await this.#jobs.stop();
      throw e;
    }
    const node = this.#node;
    const report = () =>
      nodeReport(cluster, node, vn.space, context.spaces().find((s) => s.id === vn.space || s.name === vn.space));
    this.#virtualNodes = {
      list: async () => [await report()],
      cordon: async (name, cordoned) => {
        if (name !== node.name) return undefined;
        await setCordoned(cluster, name, cordoned);
        return await report();
      },
    };
    context.log.info("the mesh joins the cluster as a virtual node", {
      bridge: context.name,
      node: this.#node.name,
      space: vn.space,
      logPort: this.#node.port,
    });
  }

  /** The editors its runs asked for (the peer serves them on their own origin), if it has an editor image. */
  get editors(): Editors | undefined {
    return this.#config.cluster.editorImage ? this.#runner?.editors : undefined;
  }

  /** The virtual node it runs, if `[bridges.kubernetes.virtual_node]` makes one. */
  get virtualNodes(): VirtualNodes | undefined {
    return this.#virtualNodes;
  }

  async close(): Promise<void> {
    await this.#node?.close();
    await this.#jobs?.stop();
  }
}

export const kubernetesBridge: BridgeKind<KubernetesBridgeConfig> = {
  name: "kubernetes",
  summary: "a Kubernetes cluster as a node of the mesh: jobs of kind kubernetes become batch/v1 Jobs, run as its DID",
  commands: COMMANDS,
  configure: parseKubernetesBridgeConfig,
  create: (config) => new KubernetesBridge(config),
};
