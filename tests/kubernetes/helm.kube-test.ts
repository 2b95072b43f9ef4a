/**
 * The Helm chart (deploy/helm/weft) installed with the real helm 4 against a
 * real API server, and deploy/kubernetes/peer.yaml through a server-side
 * dry run with kubectl. Then the chart's service account is used as the
 * peer would use it: the kubernetes runner, configured from the weft.toml
 * the chart renders and holding only that account's token, reads the
 * cluster's capacity, makes a Job and deletes it — so the chart's RBAC is
 * exactly enough — and is refused what the chart does not grant.
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

    // The token the peer's pod would get, and a kubeconfig holding nothing else.
    const token = await admin.core.createNamespacedServiceAccountToken({
      name: "t-weft",
      namespace: NS,
      body: { spec: { audiences: ["https://kubernetes.default.svc"], expirationSeconds: 600 } },
    });
    const kubeconfig = join(cp.dir, "peer-kubeconfig");
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
});
