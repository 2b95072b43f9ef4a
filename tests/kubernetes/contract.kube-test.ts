/**
 * The kubernetes runner against the runner contract (tests/runners/
 * contract.ts), end to end on a real control plane: every run is a real
 * Job whose pod the real scheduler binds to the Weft virtual node, which runs
 * it on a bubblewrap container runner and reports back through the API. So
 * every case applies — limits, network, escape and stop are enforced by the
 * container runner under the virtual node and come back as the pod's
 * termination reason, read by the kubernetes runner.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { connect } from "../../bridges/kubernetes/cluster.ts";
import { kubernetesPlugin } from "../../bridges/kubernetes/plugin.ts";
import { nodeNameFor } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import { VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import type { MemoryContentStore } from "../helpers/content-store.ts";
import { type ControlPlane, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { type Finished, type RecipeContext, runnerContract, stdoutOf } from "../runners/contract.ts";
import { baseImage } from "../containers/base-image.ts";

const quiet = { debug() {}, info() {}, warn() {} };
const LIMITS = { wallMs: 60_000, memoryMb: 64, outputBytes: 1 << 20 };
const base = baseImage();

/** The cluster and the virtual node every runner of this file uses, made once. */
let world: Promise<{ cp: ControlPlane; vnode: VirtualNode; containers: ManagedRunner; state: string }> | undefined;
function cluster() {
  world ??= (async () => {
    const state = await mkdtemp(join(tmpdir(), "weft-kube-contract-"));
    const cp = await startControlPlane();
    const c = connect({ kubeconfig: cp.kubeconfig });
    if ("unavailable" in c) throw new Error(c.unavailable);
    await c.core.createNamespace({ body: { metadata: { name: "weft" } } });
    await eventually(
      () => c.core.readNamespacedServiceAccount({ name: "default", namespace: "weft" }).then(() => true),
      60_000,
      "the default service account",
    );
    const containers = await containerPlugin.create(
      containerPlugin.parseConfig({ backend: "bwrap", cgroup_parent: `weft-kube-contract-${process.pid}` }),
      { stateDir: join(state, "container"), log: quiet },
    );
    if ("unavailable" in containers) throw new Error(`containers cannot run here: ${containers.unavailable}`);
    // The images the recipes name are put in this store too (the contract's own store is not the node's).
    const vnode = new VirtualNode({
      cluster: c,
      name: nodeNameFor("contract"),
      tls: await cp.nodeTls(nodeNameFor("contract")),
      runner: containers,
      store: images,
      offer: { cpu: 8, memoryMb: 8192, pods: 16 },
      pods: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
      leaseSeconds: 4,
      pollMs: 100,
      log: quiet,
    });
    await vnode.start();
    return { cp, vnode, containers, state };
  })();
  return world;
}

/**
 * The virtual node reads images and writes outputs in the contract's store:
 * the one the runner under test checks outputs against (set by the first spec).
 */
const images = {
  store: undefined as MemoryContentStore | undefined,
  get: (cid: string) => images.store!.get(cid),
  put: (bytes: Uint8Array) => images.store!.put(bytes),
};

after(async () => {
  if (!world) return;
  const { cp, vnode, containers, state } = await world;
  await vnode.close();
  await containers.close();
  await cp.stop();
  await rm(state, { recursive: true, force: true });
});

function bash(script: string, limits: Partial<RunSpec["limits"]> = {}) {
  return async ({ store }: { store: MemoryContentStore }): Promise<RunSpec> => {
    const image = await base;
    images.store = store;
    await store.put(image.bytes);
    return {
      runner: "kubernetes",
      program: image.digest,
      args: ["bash", "-c", script],
      inputs: [],
      env: [],
      limits: { ...LIMITS, ...limits },
    };
  };
}

const text = (f: Finished) => f.logs.map((l) => l.text).join("\n");

runnerContract({
  name: "kubernetes (Jobs on a real control plane, pods on the Weft virtual node)",
  runner: async () => {
    const { cp } = await cluster();
    const made = await kubernetesPlugin.create(
      kubernetesPlugin.parseConfig({ kubeconfig: cp.kubeconfig, tolerate_virtual_nodes: true, refresh_seconds: 1 }),
      { log: quiet },
    );
    if ("unavailable" in made) throw new Error(made.unavailable);
    return made;
  },
  recipes: {
    good: {
      spec: bash("echo one; echo two; printf A > /outputs/a.txt; mkdir -p /outputs/d; echo one > /outputs/d/b.txt"),
      stdout: ["one", "two"],
      outputs: { "a.txt": "A", "d/b.txt": "one\n" },
    },
    failing: { spec: bash("echo about to fail; exit 3"), exitCode: 3 },
    wallTime: { spec: bash("sleep 60", { wallMs: 3000 }) },
    memory: { spec: bash("tail /dev/zero", { memoryMb: 32 }) },
    outputLimit: { spec: bash("head -c 2000000 /dev/zero > /outputs/big", { outputBytes: 500_000 }) },
    network: {
      spec: bash(
        'for t in 127.0.0.1/22 1.1.1.1/53 10.0.2.2/80; do (exec 3<>/dev/tcp/${t%/*}/${t#*/}) 2>/dev/null && echo "reached $t" || echo "unreachable $t"; done',
      ),
      check(f) {
        assert.deepEqual(stdoutOf(f), [
          "unreachable 127.0.0.1/22",
          "unreachable 1.1.1.1/53",
          "unreachable 10.0.2.2/80",
        ]);
      },
    },
    escape: {
      spec: (ctx: RecipeContext) =>
        bash(
          `cat ${ctx.scratch}/secret.txt 2>/dev/null || echo "no secret"; ` +
            `for f in /etc/x /usr/x ${ctx.scratch}/x; do (echo x > $f) 2>/dev/null && echo "wrote $f" || echo "denied $f"; done`,
        )(ctx),
      check(f) {
        assert.match(text(f), /no secret/);
        assert.doesNotMatch(text(f), /wrote /);
        assert.equal(stdoutOf(f).filter((l) => l.startsWith("denied")).length, 3);
      },
    },
    ignoresStop: { spec: bash("trap '' TERM; echo running; while :; do sleep 0.2; done"), running: "running" },
    forkBomb: { spec: bash(":(){ :|:& };:; sleep 60", { wallMs: 5000 }) },
  },
});
