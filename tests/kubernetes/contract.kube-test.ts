/**
 * The kubernetes runner against the runner contract (tests/runners/
 * contract.ts), end to end on a real control plane: every run is a real
 * Job whose pod the real scheduler binds to the Weft virtual node, which runs
 * it on a bubblewrap container runner and reports back through the API. So
 * every case applies, with the same shell recipes as the container runner —
 * inputs reach the pod through the virtual node; limits, network, escape
 * and stop are enforced by the container runner under it and come back as
 * the pod's termination reason, read by the kubernetes runner.
 */
import { after } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { connect } from "../../bridges/kubernetes/cluster.ts";
import { kubernetesPlugin } from "../../bridges/kubernetes/plugin.ts";
import { nodeNameFor } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import { localPods, VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { type ControlPlane, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { finish, type RecipeContext, runnerContract, shellRecipes, type ShellSpec } from "../runners/contract.ts";
import { baseImageShell } from "../containers/base-image.ts";

const quiet = { debug() {}, info() {}, warn() {} };

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
    // Unpack the image once before any case runs: the first pod would otherwise spend its wall time on it.
    const warm = new MemoryContentStore();
    const first = await finish(containers.start(await containerShell("true")({ store: warm } as RecipeContext), warm));
    if (first.result.status !== "succeeded") throw new Error(`the base image does not run: ${first.result.reason}`);
    // The images the recipes name are put in this store too (the contract's own store is not the node's).
    const vnode = new VirtualNode({
      cluster: c,
      name: nodeNameFor("contract"),
      tls: await cp.nodeTls(nodeNameFor("contract")),
      pods: localPods(containers, images),
      offer: { cpu: 8, memoryMb: 8192, pods: 16 },
      defaults: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
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

const containerShell = baseImageShell("container", { wallMs: 600_000, memoryMb: 64, outputBytes: 1 << 20 });
const shell = baseImageShell("kubernetes", { wallMs: 180_000, memoryMb: 64, outputBytes: 1 << 20 });
/** The shell recipes' specs; the store they put images and inputs in is the one the virtual node reads. */
const bash: ShellSpec = (script, over) => (ctx) => {
  images.store = ctx.store;
  return shell(script, over)(ctx);
};

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
  recipes: shellRecipes(bash, { wallMs: 3000, forkBombWallMs: 5000 }),
});
