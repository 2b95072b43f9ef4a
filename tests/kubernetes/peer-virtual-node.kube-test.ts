/**
 * The virtual node inside a real peer (`[bridges.kubernetes.virtual_node]`)
 * on a real control plane, with the pods it is given run elsewhere in the
 * mesh: peer A hosts the kubernetes bridge and its virtual node and runs no
 * jobs itself (WEFT_SLOTS=0); peer B, a member of the same space, runs
 * container jobs (bubblewrap) and holds the image. A pod the real scheduler
 * binds to `weft-team` becomes a container job created as the bridge, B
 * runs it, the pod reaches Succeeded through the API with the outputs of
 * the run's verified manifest annotated on it, and its log is read
 * through the API server (`kubectl logs`), which fetches it from the
 * virtual node's log endpoint with its kubelet client certificate. Deleting
 * a running pod cancels its job on B. A pod whose job no member can take
 * stays Pending (not Running) while its job waits, and deleting it cancels
 * the job. `weft kube node status` on A shows the node as the cluster sees
 * it, each pod's job and B running it; `weft kube node cordon` keeps the
 * scheduler from binding a new pod there until `uncordon`. A, killed while B runs a pod's job and
 * started again, follows that job again — no second job, the pod ends
 * Succeeded with its whole log.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Cluster, connect } from "../../bridges/kubernetes/cluster.ts";
import { OUTPUTS_ANNOTATION, OUTPUTS_DIR } from "../../bridges/kubernetes/job-manifest.ts";
import type { VirtualNodeReport } from "../../bridges/kubernetes/virtual-node/node-report.ts";
import { type ControlPlane, KUBE_BIN, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { killPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import {
  startVirtualNodePeers,
  virtualNodePod,
  VN_HOST_ENV,
  VN_NAMESPACE as NS,
  VN_NODE as NODE,
} from "../helpers/virtual-node-peers.ts";

interface TaskJson {
  id: string;
  title: string;
  creator: string;
  status: string;
  results: { by: string; outcome: string; exitCode?: number }[];
}

describe("the virtual node in a peer: pods run as the mesh's container jobs", { timeout: 600_000 }, () => {
  let cp: ControlPlane;
  let cluster: Cluster;
  let a: PeerProcess;
  let b: PeerProcess;
  let space: string;
  let image: string;
  let bridgeDid: string;

  before(async () => {
    cp = await startControlPlane();
    const c = connect({ kubeconfig: cp.kubeconfig });
    if ("unavailable" in c) throw new Error(c.unavailable);
    cluster = c;
    // More memory than any member has, so a pod can ask for what no member can take.
    ({ a, b, space, image, bridgeDid } = await startVirtualNodePeers(cp, cluster, ["memory_mb = 2000000"]));
  });

  after(async () => {
    await Promise.all([a && stopPeer(a), b && stopPeer(b)]);
    await cp?.stop();
  });

  const pod = (name: string, script: string, memory?: string) =>
    virtualNodePod(name, image, script, memory ? { memory } : {});
  const readPod = (name: string) => cluster.core.readNamespacedPod({ name, namespace: NS });
  const tasksTitled = async (title: string): Promise<TaskJson[]> => {
    const { tasks } = await (await a.api()).get<{ tasks: TaskJson[] }>(
      `/v1/spaces/${encodeURIComponent(space)}/tasks`,
    );
    return tasks.filter((t) => t.title === title);
  };
  const taskOf = async (title: string) => (await tasksTitled(title))[0];

  it("a pod bound to weft-team runs on another peer's container runner, succeeds, and its log reads through the API", async () => {
    const hello = pod("hello", "echo hello from the mesh; echo second line; printf ok > /outputs/r.txt");
    hello.spec!.volumes = [{ name: "outputs", emptyDir: { sizeLimit: "1Mi" } }];
    hello.spec!.containers[0].volumeMounts = [{ name: "outputs", mountPath: OUTPUTS_DIR }];
    await cluster.core.createNamespacedPod({ namespace: NS, body: hello });
    const ended = await eventually(
      async () => {
        const p = await readPod("hello");
        return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
      },
      240_000,
      "the pod's end",
    );
    assert.equal(ended!.spec?.nodeName, NODE, "the real scheduler bound it to the virtual node");
    assert.equal(ended!.status?.phase, "Succeeded", JSON.stringify(ended!.status));
    assert.equal(ended!.status?.containerStatuses?.[0].state?.terminated?.exitCode, 0);

    // Its outputs, from the run's verified manifest, on the pod as the virtual node reports them.
    const outputs = JSON.parse(ended!.metadata?.annotations?.[OUTPUTS_ANNOTATION] ?? "[]");
    assert.deepEqual(outputs.map((o: { path: string; size: number }) => [o.path, o.size]), [["r.txt", 2]]);
    assert.equal(outputs[0].sha256, createHash("sha256").update("ok").digest("hex"));

    const task = (await taskOf(`pod ${NS}/hello`))!;
    assert.ok(task, "the pod became a job of the space");
    assert.equal(task.creator, bridgeDid, "created as the bridge, under its own chain");
    const bDid = await weft(b, "id");
    assert.equal(task.results.at(-1)?.by, bDid, "run by the other peer's container runner");

    // kubectl logs: the API server reads it from the virtual node's log endpoint.
    const log = await cluster.core.readNamespacedPodLog({ name: "hello", namespace: NS, container: "main" });
    assert.equal(log, "hello from the mesh\nsecond line\n");
    // And kubectl itself (the one .ci/setup unpacks), as a person would.
    const { stdout } = await promisify(execFile)(join(KUBE_BIN, "kubectl"), [
      "--kubeconfig",
      cp.kubeconfig,
      "logs",
      "--namespace",
      NS,
      "hello",
    ]);
    assert.equal(stdout, "hello from the mesh\nsecond line\n");
  });

  it("weft kube node status shows the node, each pod's job and the member running it; cordon and uncordon go through the API", async () => {
    const kube = async (...args: string[]) => JSON.parse(await weft(a, "kube", "node", ...args, "--json"));
    await cluster.core.createNamespacedPod({ namespace: NS, body: pod("watched", "echo up; sleep 600") });
    const bDid = await weft(b, "id");
    const { nodes } = (await eventually(
      async () => {
        const r = await kube("status") as { nodes: VirtualNodeReport[] };
        const p = r.nodes[0]?.pods.find((x) => x.name === "watched");
        return p?.phase === "Running" && p.job?.state === "running" ? r : undefined;
      },
      240_000,
      "the watched pod's job running, in weft kube node status",
    ))!;
    assert.equal(nodes.length, 1);
    const [node] = nodes;
    assert.equal(node.name, NODE);
    assert.equal(node.cluster, new URL(cp.server).host);
    assert.equal(node.ready, "True");
    assert.equal(node.cordoned, false);
    assert.equal(node.renewing, true);
    assert.ok(node.lease && node.lease.ageSeconds <= node.lease.durationSeconds, JSON.stringify(node.lease));
    assert.equal(node.capacity.pods, "8");
    const watched = node.pods.find((p) => p.name === "watched")!;
    assert.equal(watched.namespace, NS);
    assert.equal(watched.job?.node, bDid, "the member running its job");
    assert.equal(watched.job?.task, (await taskOf(`pod ${NS}/watched`))!.id);
    assert.match(await weft(a, "kube", "node", "status"), new RegExp(`${NODE} .*\n.*Ready True`));

    // Cordoned through the real API: the cluster's scheduler binds no new pod there; the running one stays.
    const cordoned = await kube("cordon", NODE) as VirtualNodeReport;
    assert.equal(cordoned.cordoned, true);
    assert.equal((await cluster.core.readNode({ name: NODE })).spec?.unschedulable, true);
    await cluster.core.createNamespacedPod({ namespace: NS, body: pod("late", "echo late") });
    await eventually(
      async () => {
        const p = await readPod("late");
        return p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.reason === "Unschedulable");
      },
      60_000,
      "the scheduler finding no node for the late pod",
    );
    assert.equal((await readPod("late")).spec?.nodeName, undefined);
    assert.equal((await readPod("watched")).status?.phase, "Running");
    // Uncordoned: the scheduler binds it there.
    assert.equal((await kube("uncordon", NODE) as VirtualNodeReport).cordoned, false);
    await eventually(async () => (await readPod("late")).spec?.nodeName === NODE, 120_000, "the late pod bound");
    await assert.rejects(weft(a, "kube", "node", "cordon", "weft-elsewhere"), /no virtual node weft-elsewhere/);
    for (const name of ["watched", "late"]) await cluster.core.deleteNamespacedPod({ name, namespace: NS });
  });

  it("deleting a running pod cancels its job in the mesh", async () => {
    await cluster.core.createNamespacedPod({ namespace: NS, body: pod("sleeper", "echo started; sleep 600") });
    await eventually(
      async () => (await taskOf(`pod ${NS}/sleeper`))?.status === "running",
      240_000,
      "the sleeper's job running",
    );
    await cluster.core.deleteNamespacedPod({ name: "sleeper", namespace: NS });
    const task = await eventually(
      async () => {
        const t = await taskOf(`pod ${NS}/sleeper`);
        return t?.status === "cancelled" ? t : undefined;
      },
      60_000,
      "the job cancelled",
    );
    assert.ok(task);
    // On B, the run itself was stopped, not just the task marked.
    await eventually(
      async () => {
        const p = await (await b.api()).get<{ local?: { status?: string } }>(
          `/v1/spaces/${encodeURIComponent(space)}/pods/${task!.id}`,
        );
        return p.local?.status === "stopped";
      },
      60_000,
      "the run on B stopped",
    );
    await eventually(
      () => readPod("sleeper").then(() => false, (e) => (e as { code?: number }).code === 404),
      60_000,
      "the pod gone",
    );
  });

  it("a peer killed while its pod's job runs elsewhere follows that job again when it restarts: no second job", async () => {
    await cluster.core.createNamespacedPod({
      namespace: NS,
      body: pod("survivor", "echo before; sleep 20; echo after"),
    });
    await eventually(
      async () => (await taskOf(`pod ${NS}/survivor`))?.status === "running",
      240_000,
      "the survivor's job running",
    );
    const port = /\/tcp\/(\d+)\//.exec(a.address)![1];
    await killPeer(a);
    // The same home and port, so B's connector finds it again.
    a = await startPeer(
      { ...VN_HOST_ENV, WEFT_P2P_LISTEN: `/ip4/127.0.0.1/tcp/${port}` },
      a.home,
    );
    const ended = await eventually(
      async () => {
        const p = await readPod("survivor");
        return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
      },
      240_000,
      "the survivor's end",
    );
    assert.equal(ended!.status?.phase, "Succeeded", JSON.stringify(ended!.status));
    assert.equal((await tasksTitled(`pod ${NS}/survivor`)).length, 1, "one job for the pod, across the restart");
    const log = await cluster.core.readNamespacedPodLog({ name: "survivor", namespace: NS, container: "main" });
    assert.equal(log, "before\nafter\n");
  });

  it("a pod whose job no member can take stays Pending while it waits; deleting it cancels the job", async () => {
    await cluster.core.createNamespacedPod({ namespace: NS, body: pod("too-big", "echo never", "1000Gi") });
    const task = await eventually(() => taskOf(`pod ${NS}/too-big`), 120_000, "the too-big pod's job");
    assert.equal((await readPod("too-big")).spec?.nodeName, NODE);
    // B saw it and cannot take it: while it waits, the pod is not reported Running.
    await eventually(
      async () =>
        (await (await b.api()).get<{ tasks: TaskJson[] }>(`/v1/spaces/${encodeURIComponent(space)}/tasks`)).tasks
          .some((t) => t.id === task!.id),
      60_000,
      "the job on B",
    );
    for (let i = 0; i < 3; i++) {
      assert.equal((await taskOf(`pod ${NS}/too-big`))?.status, "open");
      assert.equal((await readPod("too-big")).status?.phase ?? "Pending", "Pending");
      await new Promise((r) => setTimeout(r, 1000));
    }
    await cluster.core.deleteNamespacedPod({ name: "too-big", namespace: NS });
    await eventually(
      async () => (await taskOf(`pod ${NS}/too-big`))?.status === "cancelled",
      60_000,
      "the waiting job cancelled",
    );
  });
});
