/**
 * The virtual node as the kubernetes bridge runs it inside a peer
 * (`[bridges.kubernetes.virtual_node]`): the Node `weft-<space>` on the
 * bridge's cluster, whose pods become container jobs of that space created
 * as the bridge (mesh-pods.ts) and run by whichever member the mesh places
 * them on. Its log endpoint serves the certificate the config names, or one
 * made once in the bridge's directory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";
import type { BridgeContext } from "#protocol/bridge";
import type { RunnerHost } from "#protocol/runner";
import type { Cluster } from "../cluster.ts";
import type { VirtualNodeConfig } from "./config.ts";
import { meshPods } from "./mesh-pods.ts";
import { nodeNameFor } from "./node-object.ts";
import { selfSignedCert } from "./serving-cert.ts";
import { VirtualNode } from "./virtual-node.ts";

/** The longest a pod that names no deadline runs, and its memory and outputs when it names none. */
const POD_DEFAULTS = { wallMs: 24 * 3600 * 1000, memoryMb: 512, outputBytes: 64 * 1024 * 1024 };

export async function startBridgeNode(
  cluster: Cluster,
  config: VirtualNodeConfig,
  context: BridgeContext,
  log: RunnerHost["log"],
): Promise<VirtualNode> {
  if (!context.runs || !context.dir) {
    throw new WeftError(
      "Unavailable",
      "kubernetes/unavailable",
      "the virtual node places pods as the mesh's jobs and follows them: run it on a peer",
    );
  }
  const name = nodeNameFor(config.space);
  const serving = config.tlsCert && config.tlsKey
    ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) }
    : await selfSignedCert(join(context.dir, "virtual-node-tls"), name, config.address);
  const node = new VirtualNode({
    cluster,
    name,
    pods: meshPods({ context, space: config.space }),
    offer: { cpu: config.cpu, memoryMb: config.memoryMb, pods: config.pods },
    defaults: { ...POD_DEFAULTS, network: config.network },
    tls: { ...serving, clientCa: await readFile(config.clientCa) },
    address: config.address,
    port: config.port,
    leaseSeconds: config.leaseSeconds,
    log,
  });
  await node.start();
  return node;
}
