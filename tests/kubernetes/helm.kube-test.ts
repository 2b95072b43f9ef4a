/**
 * The Helm chart (deploy/helm/weft) installed with the real helm 4 against a
 * real API server, and deploy/kubernetes/peer.yaml through a server-side
 * dry run with kubectl. Then the chart's service account is used as the
 * peer would use it: the kubernetes runner, configured from the weft.toml
 * the chart renders and holding only that account's token, reads the
 * cluster's capacity, makes a Job and deletes it — so the chart's RBAC is
 * exactly enough — and is refused what the chart does not grant. With its
 * virtual node on, the chart's manifests pass a server-side dry run and
 * install, and a virtual node holding only that account's token registers
 * its Node, renews its Lease, fails a pod bound to it (its status), is
 * cordoned and reported — and is refused what a kubelet's node does not need.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "smol-toml";
import { type Cluster, connect } from "../../bridges/kubernetes/cluster.ts";
import { kubernetesPlugin } from "../../bridges/kubernetes/plugin.ts";
import { kubernetesBridge } from "../../bridges/kubernetes/bridge.ts";
import type { KubernetesRunner } from "../../bridges/kubernetes/runner.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { type ControlPlane, KUBE_BIN, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { nodeNameFor } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import { VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { nodeReport, setCordoned } from "../../bridges/kubernetes/virtual-node/node-report.ts";

const run = promisify(execFile);
const NS = "weft-chart";

describe("the Helm chart against a real API server", { timeout: 120_000 }, () => {
  let cp: ControlPlane;
  let admin: Cluster;
  const tool = (name: string, ...args: string[]) =>
    run(join(KUBE_BIN, name), [...args, "--kubeconfig", cp.kubeconfig], { env: { ...process.env, HOME: cp.dir } });

  before(async () => {
    cp = await startControlPlane({ scheduler: false });
    const c = connect({ kubeconfig: cp.kubeconfig });
    if ("unavailable" in c) throw new Error(c.unavailable);
    admin = c;
  });
  after(() => cp?.stop());

  /** A kubeconfig holding only the token a pod of service account `namespace/name` would get. */
  async function accountKubeconfig(namespace: string, name: string): Promise<string> {
    const token = await admin.core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: ["https://kubernetes.default.svc"], expirationSeconds: 600 } },
    });
    const kubeconfig = join(cp.dir, `${namespace}-${name}-kubeconfig`);
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: cp.server, "insecure-skip-tls-verify": true } }],
        users: [{ name: "peer", user: { token: token.status?.token } }],
        contexts: [{ name: "c", context: { cluster: "c", user: "peer" } }],
        "current-context": "c",
      }),
      { mode: 0o600 },
    );
    return kubeconfig;
  }

  it("deploy/kubernetes/peer.yaml passes a server-side dry run", async () => {
    const { stdout } = await tool("kubectl", "apply", "--dry-run=server", "-f", "deploy/kubernetes/peer.yaml");
    assert.match(stdout, /statefulset\.apps\/weft-peer created \(server dry run\)/);
  });

  it("installs, its weft.toml is a valid [bridges.kubernetes], and its service account can run Jobs and nothing more", async () => {
    await tool("helm", "install", "t", "deploy/helm/weft", "--namespace", NS, "--create-namespace");
    const config = await admin.core.readNamespacedConfigMap({ name: "t-weft", namespace: NS });
    const toml = parse(config.data?.["weft.toml"] ?? "") as { bridges: { kubernetes: Record<string, unknown> } };
    assert.equal(toml.bridges.kubernetes.namespace, NS);
    const settings = kubernetesBridge.configure({ ...toml.bridges.kubernetes });

    const kubeconfig = await accountKubeconfig(NS, "t-weft");
    const made = await kubernetesPlugin.create(
      { ...settings.cluster, kubeconfig },
      { log: { debug() {}, info() {}, warn() {} } },
    );
    assert.ok(!("unavailable" in made), "unavailable" in made ? made.unavailable : "");
    const runner = made as KubernetesRunner;
    try {
      await runner.warmUp();
      assert.equal(runner.capacity?.nodes, 0, "it may read the cluster's capacity (no nodes here)");
      const handle = runner.start({
        runner: "kubernetes",
        program: "docker.io/library/busybox:1.36",
        args: ["true"],
        inputs: [],
        env: [],
        limits: { wallMs: 60_000, memoryMb: 16, outputBytes: 1024 },
      }, new MemoryContentStore());
      await eventually(
        async () => (await admin.batch.listNamespacedJob({ namespace: NS })).items.length === 1,
        30_000,
        "the Job the runner made",
      );
      await handle.stop("done looking");
      assert.equal((await handle.done).status, "stopped");
      assert.deepEqual((await admin.batch.listNamespacedJob({ namespace: NS })).items, [], "and deleted");
      const peer = connect({ kubeconfig });
      if ("unavailable" in peer) throw new Error(peer.unavailable);
      await assert.rejects(peer.core.listNamespacedSecret({ namespace: NS }), /403|forbidden/i);
      await assert.rejects(
        peer.batch.listNamespacedJob({ namespace: "default" }),
        /403|forbidden/i,
        "no Jobs outside its namespace",
      );
    } finally {
      await runner.close();
    }
    await tool("helm", "uninstall", "t", "--namespace", NS);
  });

  it("with a virtual node, its service account can run the Node as a kubelet would, and nothing more", async () => {
    const ns = "weft-vn";
    const values = [
      "kubernetesBridge.virtualNode.enabled=true",
      "kubernetesBridge.virtualNode.space=team",
      "kubernetesBridge.virtualNode.address=10.96.0.50",
      "kubernetesBridge.virtualNode.clientCaConfigMap=kubelet-client-ca",
    ];
    const set = values.flatMap((v) => ["--set", v]);
    // The manifests pass a server-side dry run, then install for real.
    const { stdout: manifests } = await tool("helm", "template", "vn", "deploy/helm/weft", "--namespace", ns, ...set);
    const rendered = join(cp.dir, "vn.yaml");
    await writeFile(rendered, manifests);
    await admin.core.createNamespace({ body: { metadata: { name: ns } } });
    const dry = await tool("kubectl", "apply", "--dry-run=server", "-f", rendered);
    assert.match(dry.stdout, /clusterrole\.rbac\.authorization\.k8s\.io\/weft-vn-vn-weft-virtual-node created/);
    assert.match(dry.stdout, /role\.rbac\.authorization\.k8s\.io\/vn-weft-node-lease created/);
    await tool("helm", "install", "vn", "deploy/helm/weft", "--namespace", ns, ...set);
    const config = await admin.core.readNamespacedConfigMap({ name: "vn-weft", namespace: ns });
    const toml = parse(config.data?.["weft.toml"] ?? "") as { bridges: { kubernetes: Record<string, unknown> } };
    const settings = kubernetesBridge.configure({ ...toml.bridges.kubernetes });
    assert.equal(settings.virtualNode?.space, "team");
    assert.equal(settings.virtualNode?.clientCa, "/etc/weft/kubelet-client-ca/ca.crt");

    const peer = connect({ kubeconfig: await accountKubeconfig(ns, "vn-weft") });
    if ("unavailable" in peer) throw new Error(peer.unavailable);
    const name = nodeNameFor("team");
    const node = new VirtualNode({
      cluster: peer,
      name,
      tls: await cp.nodeTls(name),
      // The pods' runs are not what this test is about: each pod it is given is refused, and reported so.
      pods: {
        start: () => {
          throw new Error("this node runs no pods");
        },
        followsRestarts: false,
      },
      offer: { cpu: 2, memoryMb: 2048, pods: 4 },
      defaults: { network: false, wallMs: 60_000, memoryMb: 64, outputBytes: 1024 },
      leaseSeconds: 4,
      pollMs: 100,
      log: { debug() {}, info() {}, warn() {} },
    });
    try {
      // Registers its Node (create, then status), its Lease, and renews them.
      await node.start();
      const lease = await admin.coordination.readNamespacedLease({ name, namespace: "kube-node-lease" });
      const renewed = async () =>
        String((await admin.coordination.readNamespacedLease({ name, namespace: "kube-node-lease" })).spec?.renewTime);
      await eventually(async () => (await renewed()) !== String(lease.spec?.renewTime), 30_000, "the Lease renewed");
      // A pod bound to it, in another namespace: read, its NetworkPolicies listed, its status reported.
      await admin.core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name: "bound" },
          spec: { nodeName: name, containers: [{ name: "main", image: `sha256:${"ab".repeat(32)}` }] },
        },
      });
      await eventually(
        async () =>
          (await admin.core.readNamespacedPod({ name: "bound", namespace: "default" })).status?.phase === "Failed",
        30_000,
        "the pod failed by the node, saying why",
      );
      // Cordoned and reported as the cluster sees it, through the same account.
      await setCordoned(peer, name, true);
      assert.equal((await admin.core.readNode({ name })).spec?.unschedulable, true);
      const report = await nodeReport(peer, node, "team", undefined);
      assert.equal(report.cordoned, true);
      assert.deepEqual(report.pods.map((p) => [p.namespace, p.name, p.phase]), [["default", "bound", "Failed"]]);
      // Nothing more: no other node's status, no secrets, no leases outside kube-node-lease.
      await assert.rejects(peer.core.listNamespacedSecret({ namespace: "default" }), /403|forbidden/i);
      await assert.rejects(peer.core.deleteNode({ name }), /403|forbidden/i);
      await assert.rejects(
        peer.coordination.listNamespacedLease({ namespace: "kube-system" }),
        /403|forbidden/i,
      );
    } finally {
      await node.close();
      await admin.core.deleteNamespacedPod({ name: "bound", namespace: "default", gracePeriodSeconds: 0 })
        .catch(() => {});
    }
    await tool("helm", "uninstall", "vn", "--namespace", ns);
  });
});
