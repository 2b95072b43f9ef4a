/**
 * The Clusters view's model (pwa/src/model/clusters.ts) on what a cluster
 * bridge really advertises: the kubernetes runner's details as
 * bridges/kubernetes/capacity.ts makes them, through the advert's own
 * checks. Each advertising node is a cluster with its spare capacity and the
 * kubernetes runs it holds; nodes without the runner are not clusters, and
 * details a peer left out or mangled show as unknown, never as a crash. A
 * bridge's virtual node shows with its capacity, health and its pods' jobs:
 * the container runs that bridge created for them, wherever they run.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import { advertShape, type LiveAdvert } from "../../protocol/capacity/advert.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { advertDetails, spareCapacity } from "../../bridges/kubernetes/capacity.ts";
import { clustersOf, POD_JOB_LABEL } from "../../pwa/src/model/clusters.ts";
import { virtualNodeDetails } from "../../bridges/kubernetes/virtual-node/advert-details.ts";

const node = (name: string, alloc: Record<string, string>): V1Node => ({
  metadata: { name, labels: { "kubernetes.io/arch": "amd64" } },
  status: { allocatable: alloc, conditions: [{ type: "Ready", status: "True" }] },
});

const live = (did: string, runners: string[], runnerDetails?: LiveAdvert["runnerDetails"]): LiveAdvert => ({
  ...advertShape({
    cpu: { cores: 2, load: 0 },
    memoryMb: { total: 1024, free: 512 },
    gpus: 0,
    runners,
    ...(runnerDetails ? { runnerDetails } : {}),
    tags: [],
    version: "t",
    running: 0,
    slots: 1,
    ttl: 30,
  }, "advert"),
  node: did,
  at: 1000,
  expires: 31_000,
});

const pod = (task: string, node: string, state: Pod["state"], runner = "kubernetes"): Pod => ({
  space: "s",
  task,
  title: task,
  runner,
  program: "img",
  spec: "bafy",
  state,
  node,
  fence: 1,
  submittedAt: 0,
  resources: { cpu: 0, memoryMb: 64, gpu: 0, tags: [], wallMs: 1000 },
});

describe("the Clusters view's model", () => {
  it("shows each cluster bridge's spare capacity and the kubernetes runs it holds now", () => {
    const spare = spareCapacity(
      [node("a", { cpu: "4", memory: "8Gi", "nvidia.com/gpu": "2" }), node("b", { cpu: "2", memory: "4Gi" })],
      [],
      ["gvisor"],
      ["kubernetes.io/arch"],
    );
    const bridge = live("did:key:bridge", ["container", "kubernetes"], {
      kubernetes: { cluster: "10.0.0.1:6443", ...advertDetails(spare) },
    });
    const laptop = live("did:key:laptop", ["container"]);
    const [c, ...rest] = clustersOf([laptop, bridge], [
      pod("running", "did:key:bridge", "running"),
      pod("claimed", "did:key:bridge", "claimed"),
      pod("done", "did:key:bridge", "succeeded"),
      pod("elsewhere", "did:key:laptop", "running"),
      pod("a container run", "did:key:bridge", "running", "container"),
    ]);
    assert.equal(rest.length, 0, "a node without the kubernetes runner is not a cluster");
    assert.equal(c.cluster, "10.0.0.1:6443");
    assert.equal(c.node, "did:key:bridge");
    assert.equal(c.nodes, 2);
    assert.equal(c.cpuMillis, 6000);
    assert.equal(c.memoryMb, 12 * 1024);
    assert.equal(c.gpus, 2);
    assert.deepEqual(c.gpuTypes, ["nvidia.com/gpu=2"]);
    assert.deepEqual(c.runtimeClasses, ["gvisor"]);
    assert.deepEqual(c.tags, ["kubernetes.io/arch=amd64"]);
    assert.equal(c.expires, 31_000);
    assert.deepEqual(c.jobs.map((p) => p.task), ["running", "claimed"]);
    assert.equal(c.allocCpuMillis, 6000);
    assert.equal(c.allocMemoryMb, 12 * 1024);
    assert.equal(c.virtualNode, undefined, "no virtual node advertised");
  });

  it("shows a bridge's virtual node: capacity, health, and its pods' jobs wherever they run", () => {
    const details = {
      cluster: "10.0.0.1:6443",
      ...virtualNodeDetails({
        name: "weft-team",
        offer: { cpu: 4, memoryMb: 8192, pods: 8 },
        running: 1,
        ready: true,
        renewedAt: 900,
      }),
    };
    const bridge = live("did:key:bridge", ["kubernetes"], { kubernetes: details });
    const origins: Record<string, { creator: string; labels: string[] }> = {
      "pod-job": { creator: "did:key:bridge", labels: [POD_JOB_LABEL] },
      "queued-pod-job": { creator: "did:key:bridge", labels: [POD_JOB_LABEL] },
      "ended-pod-job": { creator: "did:key:bridge", labels: [POD_JOB_LABEL] },
      "someone's run": { creator: "did:key:ada", labels: [POD_JOB_LABEL] },
      "bridge, unlabelled": { creator: "did:key:bridge", labels: [] },
    };
    const [c] = clustersOf([bridge], [
      pod("pod-job", "did:key:laptop", "running", "container"),
      pod("queued-pod-job", "did:key:laptop", "queued", "container"),
      pod("ended-pod-job", "did:key:laptop", "succeeded", "container"),
      pod("someone's run", "did:key:laptop", "running", "container"),
      pod("bridge, unlabelled", "did:key:laptop", "running", "container"),
    ], (id) => origins[id]);
    const v = c.virtualNode!;
    assert.equal(v.name, "weft-team");
    assert.deepEqual([v.cpu, v.memoryMb, v.pods, v.running, v.ready, v.renewedAt], [4, 8192, 8, 1, true, 900]);
    assert.deepEqual(v.jobs.map((p) => [p.task, p.node]), [
      ["pod-job", "did:key:laptop"],
      ["queued-pod-job", "did:key:laptop"],
    ]);
    const [mangled] = clustersOf([
      live("did:key:x", ["kubernetes"], {
        kubernetes: { virtualNode: "weft-x", vnCapacity: "cpu=lots", vnReady: "yes" },
      }),
    ], []);
    assert.equal(mangled.virtualNode?.cpu, undefined);
    assert.equal(mangled.virtualNode?.ready, false, "only a true vnReady is Ready");
  });

  it("shows what a bridge left out or mangled as unknown", () => {
    const [c] = clustersOf([live("did:key:x", ["kubernetes"], { kubernetes: { cpuMillis: "lots", nodes: true } })], []);
    assert.equal(c.cluster, "(not said)");
    assert.equal(c.cpuMillis, undefined);
    assert.equal(c.nodes, undefined);
    assert.deepEqual(c.gpuTypes, []);
  });
});
