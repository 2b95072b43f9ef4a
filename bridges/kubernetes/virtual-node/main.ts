/**
 * The Weft virtual node as its own process, beside a peer: it joins the
 * cluster a kubeconfig names as the Node `weft-<space>` and runs the pods
 * bound to it on this machine's container runner, with images and outputs
 * in a local artifact store (the peer's, to share them with the mesh). It
 * runs until SIGINT or SIGTERM, then stops its runs; killed, it stops
 * renewing and the cluster marks the node NotReady.
 *
 *   node bridges/kubernetes/virtual-node/main.ts --kubeconfig ~/.kube/config --space team \
 *     --store ~/.weft/artifacts/store --state ~/.weft/cache/virtual-node \
 *     --client-ca /etc/kubernetes/pki/ca.crt [--tls-cert … --tls-key …] [--cpu 4 --memory-mb 8192 --pods 8]
 *
 * --client-ca is the CA of the API server's kubelet client certificate:
 * only the API server may read pod logs from the node.
 */
import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { messageOf } from "#protocol";
import { containerPlugin } from "../../containers/plugin.ts";
import { parseContainerConfig } from "../../containers/config.ts";
import { LocalArtifactStore } from "../../../peer/artifacts/local-store.ts";
import { connect } from "../cluster.ts";
import { nodeNameFor } from "./node-object.ts";
import { selfSignedCert } from "./serving-cert.ts";
import { localPods, VirtualNode } from "./virtual-node.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    context: { type: "string" },
    space: { type: "string" },
    store: { type: "string" },
    state: { type: "string" },
    address: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    cpu: { type: "string", default: "2" },
    "memory-mb": { type: "string", default: "4096" },
    pods: { type: "string", default: "4" },
    "lease-seconds": { type: "string", default: "40" },
    network: { type: "boolean", default: false },
    "client-ca": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
  },
});

const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
  console.error(JSON.stringify({ level, msg, ...fields }));
const host = { log: { debug: log("debug"), info: log("info"), warn: log("warn") } };

function need(name: "space" | "store" | "state" | "client-ca"): string {
  const v = values[name];
  if (!v) throw new Error(`--${name} is required`);
  return v;
}

function count(name: "port" | "cpu" | "memory-mb" | "pods" | "lease-seconds", min: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}`);
  return n;
}

async function main(): Promise<void> {
  const cluster = connect({ kubeconfig: values.kubeconfig, context: values.context });
  if ("unavailable" in cluster) throw new Error(`no cluster: ${cluster.unavailable}`);
  const state = need("state");
  const runner = await containerPlugin.create(parseContainerConfig(undefined), {
    ...host,
    stateDir: join(state, "container"),
  });
  if ("unavailable" in runner) throw new Error(`no container runner here: ${runner.unavailable}`);
  const store = await LocalArtifactStore.open({ dir: need("store"), node: "virtual-node" });
  const name = nodeNameFor(need("space"));
  const address = values.address ?? "127.0.0.1";
  const serving = values["tls-cert"] && values["tls-key"]
    ? { cert: await readFile(values["tls-cert"]), key: await readFile(values["tls-key"]) }
    : await selfSignedCert(join(state, "tls"), name, address);
  const node = new VirtualNode({
    cluster,
    name,
    tls: { ...serving, clientCa: await readFile(need("client-ca")) },
    pods: localPods(runner, store),
    offer: { cpu: count("cpu", 1), memoryMb: count("memory-mb", 64), pods: count("pods", 1) },
    defaults: {
      network: values.network ?? false,
      wallMs: 24 * 3600 * 1000,
      memoryMb: 512,
      outputBytes: 64 * 1024 * 1024,
    },
    address,
    port: count("port", 0),
    leaseSeconds: count("lease-seconds", 4),
    log: host.log,
  });
  await node.start();
  console.log(JSON.stringify({ node: node.name, port: node.port }));
  const stop = async () => {
    await node.close();
    await runner.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e) => {
  console.error(`weft virtual node: ${messageOf(e)}`);
  process.exit(1);
});
