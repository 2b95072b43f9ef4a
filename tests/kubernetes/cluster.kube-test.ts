/**
 * The cluster as a mesh node and the mesh as a node of the cluster, closed
 * into one loop with no stand-in, on a real control plane (etcd,
 * kube-apiserver, kube-scheduler, kube-controller-manager built by
 * .ci/setup): a Weft job of kind `kubernetes` is placed by the mesh's
 * scheduler on the node running the kubernetes runner, which makes a real
 * batch/v1 Job; the real scheduler binds its pod to the Weft virtual node,
 * which runs it on a real container runner (bubblewrap) and reports status,
 * log and outputs back through the API; the runner sees the Job complete and
 * the task is done with its outputs. Around it: a restarted runner adopts the
 * Job instead of making a second; a principal without /weft/run/kubernetes
 * gets nothing made on the cluster; a killed virtual node goes NotReady, the
 * real node controller evicts its pod and the Job controller's replacement
 * finishes the run on a live node; the spare capacity advertised is that of
 * the nodes its Jobs may land on (the Weft virtual node only when they
 * tolerate it) and drops when a pod is placed on one. Through the mesh, the cluster runs jobs as the
 * kubernetes bridge's own DID: its advert, claim and result are the bridge's.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import type { V1Job } from "@kubernetes/client-node";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { startCompute } from "../../protocol/scheduler/compute.ts";
import { type BridgeJobs, hostBridge, type HostedBridge } from "../../protocol/bridge/index.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { kubernetesBridge } from "../../bridges/kubernetes/bridge.ts";
import { newTaskId, type Space } from "../../protocol/space/space.ts";
import { advertShape } from "../../protocol/capacity/advert.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { LocalArtifactStore } from "../../peer/artifacts/local-store.ts";
import { type Cluster, connect } from "../../bridges/kubernetes/cluster.ts";
import { parseKubernetesConfig } from "../../bridges/kubernetes/config.ts";
import { BASELINE_POLICY, baselinePolicy, RUN_KEY_LABEL } from "../../bridges/kubernetes/job-manifest.ts";
import { createKubernetesRunner, type KubernetesRunner } from "../../bridges/kubernetes/runner.ts";
import { nodeNameFor } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import { localPods, VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { type ControlPlane, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually, libp2pNode, type TestNode } from "../helpers/nodes.ts";
import { signer } from "../helpers/principals.ts";
import { finish, stdoutOf } from "../runners/contract.ts";
import { baseImage } from "../containers/base-image.ts";

const quiet = { debug() {}, info() {}, warn() {} };
const NS = "weft";
const CGROUP_PARENT = `weft-kube-test-${process.pid}`;

/**
 * A connection to the cluster that can be cut as a crash cuts a process's:
 * after crash() every API call fails, so the runner holding it can neither
 * follow nor delete what it made.
 */
function crashable(c: Cluster): { cluster: Cluster; crash(): void } {
  let crashed = false;
  const cut = <T extends object>(api: T): T =>
    new Proxy(api, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) =>
          crashed ? Promise.reject(new Error("the process is gone")) : value.apply(target, args);
      },
    });
  return {
    cluster: {
      ...c,
      core: cut(c.core),
      batch: cut(c.batch),
      networking: cut(c.networking),
      nodeApi: cut(c.nodeApi),
      coordination: cut(c.coordination),
    },
    crash: () => crashed = true,
  };
}

describe("kubernetes: a cluster as a mesh node, the mesh as a cluster node", { timeout: 900_000 }, () => {
  let cp: ControlPlane;
  let cluster: Cluster;
  let state: string;
  let store: MemoryContentStore;
  let image: string;
  let containers: ManagedRunner;
  let vnode: VirtualNode;
  let runner: KubernetesRunner;
  const config = () =>
    parseKubernetesConfig({
      kubeconfig: cp.kubeconfig,
      namespace: NS,
      tolerate_virtual_nodes: true,
      refresh_seconds: 1,
    });
  const kubeRunner = (on = cluster) => createKubernetesRunner(on, config(), { log: quiet }, { pollMs: 100 });

  before(async () => {
    state = await mkdtemp(join(tmpdir(), "weft-kube-test-"));
    store = new MemoryContentStore();
    const base = await baseImage();
    image = base.digest;
    await store.put(base.bytes);
    const made = await containerPlugin.create(
      containerPlugin.parseConfig({ backend: "bwrap", cgroup_parent: CGROUP_PARENT }),
      { stateDir: join(state, "container"), log: quiet },
    );
    if ("unavailable" in made) throw new Error(`containers cannot run here: ${made.unavailable}; run .ci/setup`);
    containers = made;
    // Pods leave a lost node 2 s after it goes NotReady (the cluster default is 300 s).
    cp = await startControlPlane({ evictionSeconds: 2 });
    const c = connect({ kubeconfig: cp.kubeconfig });
    if ("unavailable" in c) throw new Error(c.unavailable);
    cluster = c;
    await cluster.core.createNamespace({ body: { metadata: { name: NS } } });
    // Pods need the namespace's default service account, which the controller-manager makes.
    await eventually(
      () => cluster.core.readNamespacedServiceAccount({ name: "default", namespace: NS }).then(() => true),
      60_000,
      "the default service account",
    );
    vnode = new VirtualNode({
      cluster,
      name: nodeNameFor("team"),
      tls: await cp.nodeTls(nodeNameFor("team")),
      pods: localPods(containers, store),
      offer: { cpu: 4, memoryMb: 4096, pods: 8 },
      defaults: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
      leaseSeconds: 4,
      pollMs: 100,
      log: quiet,
    });
    await vnode.start();
    runner = kubeRunner();
    await runner.warmUp();
  });

  after(async () => {
    await runner?.close();
    await vnode?.close();
    await containers?.close();
    await cp?.stop();
    await rm(state, { recursive: true, force: true });
  });

  const spec = (script: string, over: Partial<RunSpec> = {}): RunSpec => ({
    runner: "kubernetes",
    program: image,
    args: ["bash", "-c", script],
    inputs: [],
    env: [{ name: "GREETING", value: "hello" }],
    limits: { wallMs: 120_000, memoryMb: 64, outputBytes: 1 << 20 },
    ...over,
  });
  const jobsLabelled = async (key?: string) =>
    (await cluster.batch.listNamespacedJob({
      namespace: NS,
      ...(key ? { labelSelector: `${RUN_KEY_LABEL}=${key}` } : {}),
    })).items;

  it("a run becomes a Job whose pod the real scheduler binds to the virtual node, run by a Weft container runner", async () => {
    const job = { space: "did:key:z6MkSpace", task: newTaskId() };
    const handle = runner.start(
      spec(
        'echo "$GREETING from the pod"; echo two; printf A > /outputs/a.txt; mkdir -p /outputs/d; echo b > /outputs/d/b.txt',
      ),
      store,
      job,
    );
    const [made] = await eventually(
      async () => {
        const jobs = await jobsLabelled(handle.id);
        return jobs.length > 0 ? jobs : undefined;
      },
      30_000,
      "the Job",
    ) as V1Job[];
    assert.equal(made.spec?.activeDeadlineSeconds, 120);
    assert.equal(made.spec?.backoffLimit, 0);
    const pod = made.spec?.template.spec;
    assert.equal(pod?.automountServiceAccountToken, false);
    assert.deepEqual(pod?.containers[0].resources?.limits, { memory: "64Mi" });
    assert.equal(made.metadata?.labels?.["weft.dev/task"], job.task);
    // No egress: the run did not ask for network, so only the namespace's baseline selects its pod.
    const policies = (await cluster.networking.listNamespacedNetworkPolicy({ namespace: NS })).items;
    assert.deepEqual(policies.map((p) => p.metadata?.name), [BASELINE_POLICY]);
    assert.deepEqual(policies[0].spec?.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policies[0].spec?.egress ?? [], []);

    const f = await finish(handle);
    assert.equal(f.result.status, "succeeded", f.result.reason ?? f.logs.map((l) => l.text).join("\n"));
    assert.equal(f.result.exitCode, 0);
    assert.deepEqual(stdoutOf(f), ["hello from the pod", "two"]);
    const outputs = Object.fromEntries(f.result.outputs.map((o) => [o.path, store.text(o.cid)]));
    assert.deepEqual(outputs, { "a.txt": "A", "d/b.txt": "b\n" });
    await eventually(async () => (await jobsLabelled(handle.id)).length === 0, 30_000, "the Job deleted");
  });

  it("the pod ran on the virtual node: bound there by the scheduler, its status reported through the API", async () => {
    const handle = runner.start(spec("echo started; sleep 2; exit 7"), store);
    const pod = (await eventually(
      async () => {
        const pods = await cluster.core.listNamespacedPod({
          namespace: NS,
          labelSelector: `${RUN_KEY_LABEL}=${handle.id}`,
        });
        const p = pods.items[0];
        return p?.status?.phase === "Running" ? p : undefined;
      },
      30_000,
      "the pod running",
    ))!;
    assert.equal(pod.spec?.nodeName, vnode.name);
    assert.equal(pod.status?.containerStatuses?.[0].state?.running !== undefined, true);
    const f = await finish(handle);
    assert.equal(f.result.status, "failed");
    assert.equal(f.result.exitCode, 7);
    assert.deepEqual(stdoutOf(f), ["started"]);
  });

  it("a restarted runner adopts the Job it made before instead of making a second", async () => {
    const job = { space: "did:key:z6MkSpace", task: newTaskId() };
    const script = "echo first; sleep 3; echo done";
    const dying = crashable(cluster);
    const before = kubeRunner(dying.cluster);
    const first = before.start(spec(script), store, job);
    await eventually(async () => (await jobsLabelled(first.id)).length === 1, 30_000, "the first Job");
    // The process that made it is gone without cleaning up (a crash); a new one gets the same job again.
    dying.crash();
    const again = kubeRunner();
    const second = again.start(spec(script), store, job);
    assert.equal(second.id, first.id, "the same job of the mesh has the same run key");
    const seen = new Set<string>();
    let looking = Promise.resolve();
    const look = () => jobsLabelled(first.id).then((jobs) => jobs.forEach((j) => seen.add(j.metadata?.uid ?? "")));
    const watch = setInterval(() => looking = looking.then(look), 100);
    const f = await finish(second);
    clearInterval(watch);
    await looking;
    assert.equal(f.result.status, "succeeded", f.result.reason);
    assert.ok(f.logs.some((l) => /made for this run before/.test(l.text)), "it said it adopted the Job");
    assert.equal(seen.size, 1, "one Job, ever");
    await before.close();
    await again.close();
  });

  it("makes no Job where the namespace's weft-deny-all policy is not Weft's baseline (it would not cut pods off)", async () => {
    const ns = "weft-tampered";
    await cluster.core.createNamespace({ body: { metadata: { name: ns } } });
    const opened = baselinePolicy(parseKubernetesConfig({ namespace: ns }));
    await cluster.networking.createNamespacedNetworkPolicy({
      namespace: ns,
      body: { ...opened, spec: { ...opened.spec!, egress: [{}] } },
    });
    const tampered = createKubernetesRunner(
      cluster,
      parseKubernetesConfig({ kubeconfig: cp.kubeconfig, namespace: ns, tolerate_virtual_nodes: true }),
      { log: quiet },
      { pollMs: 100 },
    );
    try {
      const f = await finish(tampered.start(spec("echo should not run"), store));
      assert.equal(f.result.status, "error");
      assert.match(f.result.reason ?? "", /weft-deny-all is not Weft's baseline/);
      assert.deepEqual((await cluster.batch.listNamespacedJob({ namespace: ns })).items, [], "no Job was made");
    } finally {
      await tampered.close();
    }
  });

  it("stop() deletes the Job, and the virtual node stops the pod's run", async () => {
    const handle = runner.start(spec("trap '' TERM; echo running; while true; do sleep 1; done"), store);
    for await (const line of handle.logs) if (line.text === "running") break;
    await handle.stop("the lease was lost");
    const result = await handle.done;
    assert.equal(result.status, "stopped");
    assert.equal(result.reason, "the lease was lost");
    await eventually(async () => (await jobsLabelled(handle.id)).length === 0, 30_000, "the Job deleted");
    await eventually(
      async () => {
        const pods = await cluster.core.listNamespacedPod({
          namespace: NS,
          labelSelector: `${RUN_KEY_LABEL}=${handle.id}`,
        });
        return pods.items.length === 0;
      },
      60_000,
      "the pod gone",
    );
  });

  it("a run past its wall time ends as a timeout", async () => {
    const f = await finish(
      runner.start(
        spec("echo waiting; sleep 60", { limits: { wallMs: 3000, memoryMb: 64, outputBytes: 1 << 20 } }),
        store,
      ),
    );
    assert.equal(f.result.status, "timeout");
    assert.equal(f.result.reason, "exceeded its 3000 ms wall-time limit");
  });

  it("advertises the spare capacity of the nodes its Jobs may land on (Weft's virtual nodes only if they tolerate them)", async () => {
    // A node of the cluster's own, kept Ready here as its kubelet would (tainted: no other test's pod lands on it).
    const name = "kubelet-a";
    const resources = { cpu: "2", memory: "2Gi", pods: "10" };
    await cluster.core.createNode({
      body: { metadata: { name }, spec: { taints: [{ key: "weft.dev/test", value: "true", effect: "NoSchedule" }] } },
    });
    const since = new Date();
    const beat = async () => {
      // The control plane's own controllers also write a new node: a write that lost the race (409 Conflict) reads
      // the node again and retries, as a kubelet does.
      for (let attempt = 1;; attempt++) {
        const n = await cluster.core.readNode({ name });
        n.status = {
          capacity: resources,
          allocatable: resources,
          conditions: [{
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "ok",
            lastHeartbeatTime: new Date(),
            lastTransitionTime: since,
          }],
        };
        try {
          await cluster.core.replaceNodeStatus({ name, body: n });
          return;
        } catch (e) {
          if ((e as { code?: number }).code !== 409 || attempt === 5) throw e;
        }
      }
    };
    await beat();
    const heartbeat = setInterval(() => void beat().catch(() => {}), 1000);
    const bound = "bound-to-kubelet-a";
    // A runner whose Jobs do not tolerate virtual nodes (the default), beside the test's, whose Jobs do.
    const plain = createKubernetesRunner(
      cluster,
      parseKubernetesConfig({ kubeconfig: cp.kubeconfig, namespace: NS, refresh_seconds: 1 }),
      { log: quiet },
    );
    try {
      // Pods of earlier tests may still be going away: wait for both nodes to be idle.
      const idle = (await eventually(
        async () => {
          const c = await runner.refresh();
          return c.nodes === 2 && c.cpuMillis === 6000 ? c : undefined;
        },
        60_000,
        "the virtual node and kubelet-a idle",
      ))!;
      assert.equal(idle.memoryMb, 4096 + 2048);
      const details = runner.advertise();
      assert.equal(details.cpuMillis, 6000);
      advertShape({
        cpu: { cores: 1, load: 0 },
        memoryMb: { total: 1, free: 1 },
        gpus: 0,
        runners: ["kubernetes"],
        runnerDetails: { kubernetes: details },
        tags: [],
        version: "t",
        running: 0,
        slots: 1,
        ttl: 30,
      }, "advert");
      // Without tolerate_virtual_nodes the virtual node (the mesh's own capacity) is left out: only kubelet-a counts.
      const own = await plain.refresh();
      assert.equal(own.nodes, 1);
      assert.equal(own.cpuMillis, 2000);
      assert.deepEqual(own.allocatable, { cpuMillis: 2000, memoryMb: 2048 });
      assert.equal(plain.advertise().nodes, 1);
      // A Job's pod, placed on the virtual node, takes from what the tolerating runner offers, not the plain one...
      const handle = runner.start(spec("echo up; sleep 30"), store);
      for await (const line of handle.logs) if (line.text === "up") break;
      const busy = await runner.refresh();
      assert.equal(busy.cpuMillis, 6000 - 250);
      assert.equal(busy.memoryMb, 6144 - 64);
      assert.equal((await plain.refresh()).cpuMillis, 2000);
      await handle.stop();
      // ...and a pod on the cluster's own node takes from both.
      await cluster.core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name: bound },
          spec: {
            nodeName: name,
            automountServiceAccountToken: false,
            containers: [{ name: "c", image, resources: { requests: { cpu: "500m", memory: "256Mi" } } }],
          },
        },
      });
      const taken = (await eventually(
        async () => {
          const c = await plain.refresh();
          return c.cpuMillis === 1500 ? c : undefined;
        },
        30_000,
        "the bound pod's request taken from kubelet-a",
      ))!;
      assert.equal(taken.memoryMb, 2048 - 256);
    } finally {
      clearInterval(heartbeat);
      await plain.close();
      await cluster.core.deleteNamespacedPod({ name: bound, namespace: NS, gracePeriodSeconds: 0 }).catch(() => {});
      await cluster.core.deleteNode({ name });
    }
  });

  it("a killed virtual node goes NotReady, its pod is evicted and rescheduled by the cluster, and the run ends there", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-vnode-"));
    // The doomed node's own store holds the image, so its pod runs until the node is killed.
    const doomedStore = await LocalArtifactStore.open({ dir: join(dir, "store"), node: "doomed" });
    await doomedStore.put((await baseImage()).bytes);
    const child = spawn(process.execPath, [
      "bridges/kubernetes/virtual-node/main.ts",
      "--kubeconfig",
      cp.kubeconfig,
      "--space",
      "doomed",
      "--store",
      join(dir, "store"),
      "--state",
      join(dir, "state"),
      "--lease-seconds",
      "4",
      "--client-ca",
      cp.kubeletClientCa,
    ], { stdio: ["ignore", "pipe", "inherit"] });
    const team = nodeNameFor("team");
    const cordon = (unschedulable: boolean) =>
      cluster.core.patchNode(
        { name: team, body: { spec: { unschedulable } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    let handle: ReturnType<KubernetesRunner["start"]> | undefined;
    try {
      const ready = (status: string) => async () => {
        const node = await cluster.core.readNode({ name: nodeNameFor("doomed") });
        return node.status?.conditions?.find((c) => c.type === "Ready")?.status === status;
      };
      await eventually(ready("True"), 60_000, "the virtual node Ready");
      // Only the doomed node takes the run's first pod.
      await cordon(true);
      handle = runner.start(
        spec("echo started; sleep 5; printf moved > /outputs/where.txt; echo finished", {
          limits: { wallMs: 600_000, memoryMb: 64, outputBytes: 1 << 20 },
        }),
        store,
      );
      const podsOf = async () =>
        (await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: `${RUN_KEY_LABEL}=${handle!.id}` }))
          .items;
      const first = (await eventually(
        async () =>
          (await podsOf()).find((p) => p.spec?.nodeName === nodeNameFor("doomed") && p.status?.phase === "Running"),
        120_000,
        "the first pod running on the doomed node",
      ))!;
      await cordon(false);
      child.kill("SIGKILL");
      await eventually(ready("Unknown"), 120_000, "the node controller marking it NotReady");
      const moved = (await eventually(
        async () =>
          (await podsOf()).find((p) => p.spec?.nodeName === team && p.metadata?.name !== first.metadata?.name),
        120_000,
        "the cluster evicting the pod and the Job controller's replacement bound to the live node",
      ))!;
      const evicted = (await podsOf()).find((p) => p.metadata?.name === first.metadata?.name);
      assert.ok(!evicted || evicted.metadata?.deletionTimestamp, "the pod on the lost node is being deleted");
      const f = await finish(handle);
      assert.equal(f.result.status, "succeeded", f.result.reason);
      assert.ok(stdoutOf(f).includes("finished"));
      assert.ok(
        f.logs.some((l) => l.stream === "system" && l.text.includes(`replaced by ${moved.metadata?.name}`)),
        "the run's log says where it moved",
      );
      assert.deepEqual(f.result.outputs.map((o) => o.path), ["where.txt"]);
      assert.equal(new TextDecoder().decode(await store.get(f.result.outputs[0].cid)), "moved");
    } finally {
      await cordon(false).catch(() => {});
      child.kill("SIGKILL");
      await handle?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe("through the mesh, as the kubernetes bridge's own DID", () => {
    let n: TestNode;
    let space: Space;
    let jobs: BridgeJobs;
    let hosted: HostedBridge;
    const bridge = nativeSigner(generateSeed());
    const asked: string[] = [];

    before(async () => {
      n = await libp2pNode();
      space = await n.node.createSpace("kube");
      // The space's root grants the bridge what it asks for, as a person would with `weft cap delegate`.
      for (const command of kubernetesBridge.commands) {
        await space.invite({ audience: bridge.did, command, kind: "agent", name: "cluster" });
      }
      hosted = hostBridge({
        name: "kubernetes",
        node: n.node,
        signer: bridge,
        log: { info() {}, warn() {}, error() {} },
        jobs: (as, runners, o) => {
          const compute = startCompute(n.node, {
            as,
            runners,
            slots: o.slots,
            store,
            machine: (running) => ({ ...o.offer(running), version: "test" }),
            advertiseMs: 1000,
            publish: () => Promise.resolve(undefined),
          });
          return { stop: () => compute.stop() };
        },
      });
      jobs = hosted.context.runJobs!([{
        kind: "kubernetes",
        available: () => runner.available(),
        start(s, st, job) {
          asked.push(job?.task ?? "");
          return runner.start(s, st, job);
        },
        advertise: () => runner.advertise(),
        warmUp: () => Promise.resolve(),
        close: () => Promise.resolve(), // the suite's runner is closed by the suite
      }], {
        slots: 2,
        offer: () => ({ cpu: { cores: 4, load: 0 }, memoryMb: { total: 4096, free: 4096 }, gpus: 0, tags: [] }),
      });
      await eventually(
        () => n.node.gossip(space.id)!.adverts().some((a) => a.node === bridge.did),
        10_000,
        "the bridge's advert",
      );
    });

    after(async () => {
      await jobs?.stop();
      hosted?.detach();
      await n?.node.stop();
    });

    it("a job from a principal without /weft/run/kubernetes never reaches the API; the space root's job runs", async () => {
      const member = await signer();
      await space.invite({ audience: member.did, command: "/weft/task" });
      const refused = await space.actAs(member, "create", {
        task: newTaskId(),
        title: "not allowed",
        run: spec("echo should not run"),
      });
      const noted = await eventually(
        () => space.task(refused.id)?.comments.find((c) => /does not hold \/weft\/run\/kubernetes/.test(c.body)),
        30_000,
        "the refusal note",
      );
      assert.ok(noted);
      assert.equal(space.task(refused.id)?.status, "open");
      assert.ok(!asked.includes(refused.id), "the runner was never asked");
      assert.deepEqual(
        (await jobsLabelled()).filter((j) => j.metadata?.annotations?.["weft.dev/task"] === refused.id),
        [],
      );

      const allowed = await space.createTask({
        title: "allowed",
        run: spec("echo from the mesh; printf ok > /outputs/r.txt"),
      });
      const done = (await eventually(
        () => {
          const t = space.task(allowed.id);
          return t && (t.status === "done" || t.status === "failed" || t.status === "review") ? t : undefined;
        },
        120_000,
        "the task's result",
      ))!;
      assert.notEqual(done.status, "failed", JSON.stringify(done.comments));
      assert.ok(asked.includes(allowed.id));
      assert.equal(done.results.at(-1)?.by, bridge.did, "the bridge, not the node hosting it, reported the run");
      assert.deepEqual(done.history.filter((h) => h.kind === "claim").map((h) => h.author), [bridge.did]);
    });
  });
});
