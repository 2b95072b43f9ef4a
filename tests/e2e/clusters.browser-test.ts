/**
 * The Clusters view in Debian's Chromium against a peer daemon whose
 * kubernetes bridge reaches a real control plane (etcd, kube-apiserver,
 * kube-scheduler, kube-controller-manager built by .ci/setup) and makes the
 * mesh its virtual node `weft-team`: the browser, a member of the space,
 * shows the cluster from the bridge's signed advert (allocatable and spare
 * CPU and memory, Ready nodes, the bridge's health) and the virtual node
 * (capacity, Ready, pods running) with the job of a pod the real scheduler
 * bound to it, running on the peer; when the pod is deleted its job leaves
 * the list.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import type { V1Pod } from "@kubernetes/client-node";
import { type Cluster, connect } from "../../bridges/kubernetes/cluster.ts";
import { kubernetesBridge } from "../../bridges/kubernetes/bridge.ts";
import { VIRTUAL_NODE_TAINT } from "../../bridges/kubernetes/job-manifest.ts";
import type { Space } from "../../protocol/space/space.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { type ControlPlane, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { baseImage } from "../containers/base-image.ts";
import { appReady, join, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

const NS = "weft";

describe("the Clusters view in Chromium: a cluster and the mesh's virtual node in it", { timeout: 600_000 }, () => {
  let cp: ControlPlane;
  let cluster: Cluster;
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let image: string;

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    cp = await startControlPlane();
    const c = connect({ kubeconfig: cp.kubeconfig });
    if ("unavailable" in c) throw new Error(c.unavailable);
    cluster = c;
    await cluster.core.createNamespace({ body: { metadata: { name: NS } } });
    await eventually(
      () => cluster.core.readNamespacedServiceAccount({ name: "default", namespace: NS }).then(() => true),
      60_000,
      "the default service account",
    );
    d = await testDaemon(
      { WEFT_SLOTS: "1", WEFT_ADVERTISE_SECONDS: "1" },
      [
        "[runners.container]",
        'backend = "bwrap"',
        `cgroup_parent = "weft-clusters-view-${process.pid}"`,
        "[bridges.kubernetes]",
        `kubeconfig = "${cp.kubeconfig}"`,
        `namespace = "${NS}"`,
        "refresh_seconds = 1",
        "slots = 1",
        "[bridges.kubernetes.virtual_node]",
        'space = "team"',
        `client_ca = "${cp.kubeletClientCa}"`,
        "port = 0",
        "cpu = 4",
        "memory_mb = 8192",
        "pods = 8",
        "lease_seconds = 8",
      ].join("\n") + "\n",
    );
    space = await d.daemon.node.createSpace("team");
    const bridge = d.daemon.bridges.find((b) => b.name === "kubernetes")!;
    for (const command of kubernetesBridge.commands) {
      await space.invite({ audience: bridge.did, command, kind: "agent", name: "cluster" });
    }
    const base = await baseImage();
    await d.daemon.artifacts.contentStore().put(base.bytes);
    image = base.digest;
    ada = await openProfile();
    await ada.page.goto(d.daemon.url);
    await appReady(ada.page);
    await join(ada.page, await d.daemon.node.invite(space.id, { name: "link for ada" }));
  });

  after(async () => {
    await ada?.close();
    await d?.stop();
    await cp?.stop();
  });

  const pod = (name: string, script: string): V1Pod => ({
    metadata: { name, namespace: NS },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      nodeSelector: { [VIRTUAL_NODE_TAINT]: "true" },
      tolerations: [{ key: VIRTUAL_NODE_TAINT, operator: "Exists", effect: "NoSchedule" }],
      containers: [{ name: "main", image, command: ["bash", "-c", script] }],
    },
  });

  it("shows the cluster's allocatable and spare capacity, the virtual node's capacity and health, and its pod's job", async () => {
    await cluster.core.createNamespacedPod({ namespace: NS, body: pod("sleeper", "echo up; sleep 600") });
    await eventually(
      () => space.tasks().find((t) => t.title === `pod ${NS}/sleeper` && t.status === "running"),
      240_000,
      "the sleeper's job running on the peer",
    );
    const page = ada.page;
    await page.click("nav >> text=Clusters");
    await page.locator("#clusters-title").waitFor();
    const card = page.locator(`article[data-cluster="${new URL(cp.server).host}"]`);
    await card.waitFor({ timeout: 60_000 });
    // The virtual node is the cluster's only node, and the mesh's own capacity: the cluster offers nothing of it
    // (its Jobs do not tolerate virtual nodes), so the mesh never sees its own capacity advertised back.
    await card.locator('[data-fact="nodes"]', { hasText: "0" }).waitFor();
    assert.match(await card.locator('[data-fact="alloc-cpu"]').innerText(), /^0 cores$/);
    assert.match(await card.locator('[data-fact="alloc-memory"]').innerText(), /^0 MB$/);
    const vn = card.locator('[data-virtual-node="weft-team"]');
    await vn.locator('[data-health="ready"]').waitFor({ timeout: 30_000 });
    const capacity = await vn.locator('[data-fact="vn-capacity"]').innerText();
    assert.match(capacity, /4 cores/);
    assert.match(capacity, /8 pods/);
    await vn.locator('[data-fact="vn-running"]', { hasText: "1" }).waitFor({ timeout: 30_000 });
    const job = vn.locator('li[data-pod="weft/sleeper"]');
    await job.waitFor();
    assert.match(await job.innerText(), /pod weft\/sleeper — running, on /);
    await shot(page, "40-clusters-virtual-node");

    await cluster.core.deleteNamespacedPod({ name: "sleeper", namespace: NS });
    await job.waitFor({ state: "detached", timeout: 60_000 });
    await vn.locator('[data-fact="vn-running"]', { hasText: "0" }).waitFor({ timeout: 30_000 });
    assert.deepEqual(ada.errors, []);
  });
});
