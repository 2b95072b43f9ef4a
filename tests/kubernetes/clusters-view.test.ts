/**
 * The Clusters view's model (pwa/src/model/clusters.ts) on what a cluster
 * bridge really advertises: the kubernetes runner's details as
 * bridges/kubernetes/capacity.ts makes them, through the advert's own
 * checks. Each advertising node is a cluster with its spare capacity and the
 * kubernetes runs it holds; nodes without the runner are not clusters, and
 * details a peer left out or mangled show as unknown, never as a crash.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import { advertShape, type LiveAdvert } from "../../protocol/capacity/advert.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { advertDetails, spareCapacity } from "../../bridges/kubernetes/capacity.ts";
import { clustersOf } from "../../pwa/src/model/clusters.ts";

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
  });

  it("shows what a bridge left out or mangled as unknown", () => {
    const [c] = clustersOf([live("did:key:x", ["kubernetes"], { kubernetes: { cpuMillis: "lots", nodes: true } })], []);
    assert.equal(c.cluster, "(not said)");
    assert.equal(c.cpuMillis, undefined);
    assert.equal(c.nodes, undefined);
    assert.deepEqual(c.gpuTypes, []);
  });
});
