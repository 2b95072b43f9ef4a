/**
 * The kubernetes bridge's pure parts, without a cluster: quantities, the
 * spare capacity summed from nodes and pods, the Job and NetworkPolicy a
 * run becomes, what the virtual node accepts of a pod (and the network it
 * gives it), and the outputs a pod reports — refused unless the store holds
 * exactly those bytes. The cluster itself is in *.kube-test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1NetworkPolicy, V1Node, V1Pod } from "@kubernetes/client-node";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { advertDetails, spareCapacity } from "../../bridges/kubernetes/capacity.ts";
import { parseKubernetesBridgeConfig, parseKubernetesConfig } from "../../bridges/kubernetes/config.ts";
import { meshPods } from "../../bridges/kubernetes/virtual-node/mesh-pods.ts";
import { nodeObject } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import {
  baselinePolicy,
  egressPolicy,
  isBaseline,
  jobManifest,
  OUTPUTS_ANNOTATION,
  runKey,
} from "../../bridges/kubernetes/job-manifest.ts";
import { checkedOutputs, currentPod } from "../../bridges/kubernetes/pod-result.ts";
import { quantity } from "../../bridges/kubernetes/quantity.ts";
import { checkKubernetesSpec } from "../../bridges/kubernetes/spec.ts";
import { egressAllowed, podRunSpec } from "../../bridges/kubernetes/virtual-node/pod-spec.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const INPUT = { path: "a", cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" };
const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
  runner: "kubernetes",
  program: DIGEST,
  args: ["sh", "-c", "echo hi"],
  inputs: [],
  env: [{ name: "A", value: "1" }],
  limits: { wallMs: 2500, memoryMb: 64, outputBytes: 4096 },
  ...over,
});

const node = (name: string, alloc: Record<string, string>, ready = true, labels = {}): V1Node => ({
  metadata: { name, labels },
  status: { allocatable: alloc, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});
const pod = (nodeName: string, requests: Record<string, string>, phase = "Running"): V1Pod => ({
  spec: { nodeName, containers: [{ name: "c", resources: { requests } }] },
  status: { phase },
});

describe("kubernetes bridge, without a cluster", () => {
  it("a pod for a space the bridge holds nothing in is refused, saying what to grant", () => {
    const pods = meshPods({ context: { spaces: () => [], subscribe: () => () => {} }, space: "team" });
    const spec: RunSpec = {
      runner: "container",
      program: `sha256:${"a".repeat(64)}`,
      args: [],
      inputs: [],
      env: [],
      limits: { wallMs: 1000, memoryMb: 64, outputBytes: 0 },
    };
    assert.throws(
      () => pods.start(spec, { namespace: "weft", name: "p", uid: "u" }),
      /holds no delegation in space team: grant it \/weft\/task\/create, \/weft\/task\/cancel and \/weft\/run\/container/,
    );
  });

  it("reads [bridges.kubernetes.virtual_node], defaults filled in, a wrong value refused by its key", () => {
    const c = parseKubernetesBridgeConfig({ virtual_node: { space: "team", client_ca: "/ca.crt" } });
    assert.deepEqual(c.virtualNode, {
      space: "team",
      cpu: 4,
      memoryMb: 8192,
      pods: 8,
      address: "127.0.0.1",
      port: 10250,
      clientCa: "/ca.crt",
      leaseSeconds: 40,
      network: false,
    });
    assert.equal(parseKubernetesBridgeConfig({}).virtualNode, undefined);
    assert.throws(
      () => parseKubernetesBridgeConfig({ virtual_node: { space: "team" } }),
      (e: Error & { field?: string }) => e.field === "virtual_node.client_ca",
    );
    assert.throws(
      () => parseKubernetesBridgeConfig({ virtual_node: { space: "t", client_ca: "/c", tls_cert: "/x" } }),
      (e: Error & { field?: string }) => e.field === "virtual_node.tls_key" && /both, or neither/.test(e.message),
    );
    assert.throws(
      () => parseKubernetesBridgeConfig({ virtual_node: { space: "t", client_ca: "/c", lease_seconds: 1 } }),
      (e: Error & { field?: string }) => e.field === "virtual_node.lease_seconds",
    );
  });

  it("reads quantities in their base unit", () => {
    assert.equal(quantity("500m"), 0.5);
    assert.equal(quantity("2"), 2);
    assert.equal(quantity("16Gi"), 16 * 2 ** 30);
    assert.equal(quantity("129M"), 129e6);
    assert.equal(quantity("1e3"), 1000);
    assert.equal(quantity("nonsense"), 0);
  });

  it("leaves Weft's own virtual nodes out of the spare capacity, unless its Jobs tolerate them", () => {
    const virtual = { ...nodeObject("weft-team"), status: node("weft-team", { cpu: "4", memory: "8Gi" }).status };
    const nodes = [virtual, node("a", { cpu: "2", memory: "4Gi" })];
    const pods = [pod("weft-team", { cpu: "1" }), pod("a", { cpu: "500m" })];
    const c = spareCapacity(nodes, pods, [], []);
    assert.equal(c.nodes, 1);
    assert.equal(c.cpuMillis, 1500);
    assert.deepEqual(c.allocatable, { cpuMillis: 2000, memoryMb: 4096 });
    const tolerating = spareCapacity(nodes, pods, [], [], true);
    assert.equal(tolerating.nodes, 2);
    assert.equal(tolerating.cpuMillis, 4500);
  });

  it("sums allocatable and spare capacity over Ready nodes, minus unfinished pods' requests, GPUs per type", () => {
    const c = spareCapacity(
      [
        node("a", { cpu: "4", memory: "8Gi", "nvidia.com/gpu": "2" }, true, { "kubernetes.io/arch": "amd64" }),
        node("b", { cpu: "2", memory: "4Gi" }, true, { "kubernetes.io/arch": "amd64" }),
        node("down", { cpu: "64", memory: "64Gi" }, false),
      ],
      [
        pod("a", { cpu: "1500m", memory: "1Gi", "nvidia.com/gpu": "1" }),
        pod("b", { cpu: "1" }, "Succeeded"),
        pod("down", { cpu: "1" }),
      ],
      ["gvisor"],
      ["kubernetes.io/arch", "absent"],
    );
    assert.deepEqual(c, {
      nodes: 2,
      cpuMillis: 4500,
      memoryMb: 11 * 1024,
      allocatable: { cpuMillis: 6000, memoryMb: 12 * 1024 },
      gpus: { "nvidia.com/gpu": 1 },
      runtimeClasses: ["gvisor"],
      tags: ["kubernetes.io/arch=amd64"],
    });
    assert.deepEqual(advertDetails(c), {
      nodes: 2,
      cpuMillis: 4500,
      memoryMb: 11264,
      allocCpuMillis: 6000,
      allocMemoryMb: 12288,
      gpus: 1,
      gpuTypes: "nvidia.com/gpu=1",
      runtimeClasses: "gvisor",
      tags: "kubernetes.io/arch=amd64",
    });
  });

  it("a run's Job: limits from the spec, no token, keyed by its job; egress denied unless it may have network", () => {
    const config = parseKubernetesConfig({ namespace: "ci" });
    const job = { space: "did:key:z6Mk", task: "t123" };
    const key = runKey("bafyspec", job);
    assert.equal(runKey("bafyspec", job), key, "the same job, the same key");
    assert.notEqual(runKey("bafyspec", { ...job, task: "t124" }), key);
    assert.notEqual(runKey("bafyspec"), runKey("bafyspec"), "a run outside the scheduler gets its own key");
    const j = jobManifest(spec(), "bafyspec", key, config, job);
    assert.equal(j.metadata?.namespace, "ci");
    assert.equal(j.spec?.activeDeadlineSeconds, 3);
    assert.equal(j.spec?.template.spec?.automountServiceAccountToken, false);
    assert.deepEqual(j.spec?.template.spec?.containers[0].command, ["sh", "-c", "echo hi"]);
    assert.equal(j.spec?.template.metadata?.labels?.["weft.dev/run-key"], key);
    assert.equal(j.spec?.template.spec?.tolerations, undefined, "virtual nodes only when configured");
    // Every Weft pod is cut off by the namespace's baseline; a run that may have the network has its egress opened.
    const base = baselinePolicy(config);
    assert.deepEqual(base.spec?.podSelector?.matchLabels, { "app.kubernetes.io/managed-by": "weft" });
    assert.equal(
      j.spec?.template.metadata?.labels?.["app.kubernetes.io/managed-by"],
      "weft",
      "the baseline selects it",
    );
    assert.deepEqual(base.spec?.policyTypes, ["Ingress", "Egress"]);
    assert.ok(isBaseline(base));
    assert.ok(!isBaseline({ ...base, spec: { ...base.spec!, egress: [{}] } }), "an opened baseline is not Weft's");
    const open = egressPolicy(key, config);
    assert.deepEqual(open.spec?.podSelector?.matchLabels, { "weft.dev/run-key": key });
    assert.deepEqual(open.spec?.policyTypes, ["Egress"]);
    assert.deepEqual(open.spec?.egress, [{}]);
  });

  it("refuses specs a Job cannot carry before anything reaches the API", () => {
    const kubelets = { tolerateVirtualNodes: false };
    assert.throws(() => checkKubernetesSpec(spec({ runner: "container" }), kubelets), /"kubernetes" runner/);
    assert.throws(() => checkKubernetesSpec(spec({ program: "Not An Image!" }), kubelets), /spec\.program/);
    assert.throws(
      () => checkKubernetesSpec(spec({ inputs: [INPUT] }), kubelets),
      /spec\.inputs.*tolerate_virtual_nodes/,
    );
    assert.throws(() => checkKubernetesSpec(spec({ source: { cid: INPUT.cid } }), kubelets), /spec\.inputs/);
    assert.equal(
      checkKubernetesSpec(spec({ program: "docker.io/library/busybox:1.36" }), kubelets).program,
      "docker.io/library/busybox:1.36",
    );
  });

  it("a run with inputs or a source tree is pinned to Weft virtual nodes, its files named on the pod", () => {
    const config = parseKubernetesConfig({ namespace: "ci", tolerate_virtual_nodes: true });
    const s = checkKubernetesSpec(spec({ inputs: [INPUT], source: { cid: INPUT.cid } }), config);
    const pod = jobManifest(s, "bafyspec", runKey("bafyspec"), config).spec?.template;
    assert.deepEqual(pod?.spec?.nodeSelector, { "weft.dev/virtual-node": "true" });
    assert.deepEqual(JSON.parse(pod?.metadata?.annotations?.["weft.dev/inputs"] ?? ""), {
      inputs: [INPUT],
      source: { cid: INPUT.cid },
    });
    const plain = jobManifest(spec(), "bafyspec", runKey("bafyspec"), config).spec?.template;
    assert.equal(plain?.spec?.nodeSelector, undefined, "a run without files may land anywhere");
    assert.equal(plain?.metadata?.annotations?.["weft.dev/inputs"], undefined);
  });

  describe("the virtual node", () => {
    const defaults = { network: true, wallMs: 1000, memoryMb: 128, outputBytes: 10 };
    const p = (over: Partial<V1Pod["spec"]> = {}, labels: Record<string, string> = { app: "x" }): V1Pod => ({
      metadata: { name: "p", namespace: "ns", labels },
      spec: { containers: [{ name: "c", image: `reg/img@${DIGEST}`, command: ["a"], args: ["b"] }], ...over },
    });
    const deny = (matchLabels: Record<string, string>, egress: V1NetworkPolicy["spec"] = {}): V1NetworkPolicy => ({
      spec: { podSelector: { matchLabels }, policyTypes: ["Egress"], egress: [], ...egress },
    });

    it("runs one container by digest with the pod's limits", () => {
      const s = podRunSpec(p({ activeDeadlineSeconds: 7 }), [], defaults);
      assert.equal(s.program, DIGEST);
      assert.deepEqual(s.args, ["a", "b"]);
      assert.equal(s.limits.wallMs, 7000);
      assert.equal(s.network, true);
    });

    it("refuses pods it cannot run as they are", () => {
      assert.throws(() => podRunSpec(p({ containers: [] }), [], defaults), /0 containers/);
      assert.throws(
        () => podRunSpec(p({ containers: [{ name: "c", image: "busybox:latest" }] }), [], defaults),
        /not named by digest/,
      );
    });

    it("gives no network where a NetworkPolicy restricts the pod's egress", () => {
      assert.equal(egressAllowed(p(), [deny({ app: "x" })]), false);
      assert.equal(podRunSpec(p(), [deny({ app: "x" })], defaults).network, false);
      assert.equal(egressAllowed(p(), [deny({ app: "other" })]), true, "a policy for other pods");
      assert.equal(egressAllowed(p(), [deny({}, { egress: [{}] })]), true, "a rule allowing everything");
      assert.equal(podRunSpec(p(), [], { ...defaults, network: false }).network, false, "the node gives none");
    });

    it("hands the files the pod's annotation names to the container runner, checked as a spec's", () => {
      const annotated = (text: string): V1Pod => ({
        ...p(),
        metadata: { ...p().metadata, annotations: { "weft.dev/inputs": text } },
      });
      const files = { inputs: [INPUT], source: { cid: INPUT.cid } };
      const s = podRunSpec(annotated(JSON.stringify(files)), [], defaults);
      assert.deepEqual(s.inputs, [INPUT]);
      assert.deepEqual(s.source, { cid: INPUT.cid });
      assert.deepEqual(podRunSpec(p(), [], defaults).inputs, [], "no annotation, no files");
      assert.throws(() => podRunSpec(annotated("{"), [], defaults), /weft\.dev\/inputs annotation is not JSON/);
      assert.throws(
        () =>
          podRunSpec(annotated(JSON.stringify({ inputs: [{ path: "../etc/passwd", cid: INPUT.cid }] })), [], defaults),
        /cannot run on a Weft virtual node.*path/,
      );
      assert.throws(
        () => podRunSpec(annotated(JSON.stringify({ inputs: [], pad: "x".repeat(70_000) })), [], defaults),
        /over 65536 characters/,
      );
    });
  });

  it("follows the Job's replacement pod, not the one evicted from a lost node", () => {
    const pod = (name: string, at: string, phase: string, deleting = false): V1Pod => ({
      metadata: {
        name,
        creationTimestamp: new Date(at),
        ...(deleting ? { deletionTimestamp: new Date("2026-01-01T00:09:00Z") } : {}),
      },
      status: { phase },
    });
    const evicted = pod("first", "2026-01-01T00:00:00Z", "Running", true);
    const pending = pod("second", "2026-01-01T00:10:00Z", "Pending");
    const running = pod("second", "2026-01-01T00:10:00Z", "Running");
    assert.equal(currentPod([evicted])?.metadata?.name, "first", "only the evicted one: still the run's");
    assert.equal(currentPod([evicted, pending])?.metadata?.name, "second", "its replacement, even while pending");
    assert.equal(currentPod([running, evicted])?.metadata?.name, "second");
    assert.equal(currentPod([]), undefined);
  });

  describe("outputs reported on a pod", () => {
    const reported = (outputs: unknown): V1Pod => ({
      metadata: { annotations: { [OUTPUTS_ANNOTATION]: JSON.stringify(outputs) } },
    });

    it("are taken when the store holds exactly those bytes", async () => {
      const store = new MemoryContentStore();
      const cid = await store.add("hello");
      const file = {
        path: "a.txt",
        size: 5,
        sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        cid,
      };
      assert.deepEqual(await checkedOutputs(reported([file]), store, 100), { files: [file] });
      assert.deepEqual(await checkedOutputs({ metadata: {} }, store, 100), { files: [] });
    });

    it("are refused when they claim bytes the store does not hold, or lie about them, or pass the limit", async () => {
      const store = new MemoryContentStore();
      const cid = await store.add("hello");
      const good = {
        path: "a.txt",
        size: 5,
        sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        cid,
      };
      const missing = await new MemoryContentStore().add("never stored");
      assert.match(
        (await checkedOutputs(reported([{ ...good, cid: missing }]), store, 100) as { invalid: string }).invalid,
        /not in the content store/,
      );
      assert.match(
        (await checkedOutputs(reported([{ ...good, size: 4 }]), store, 100) as { invalid: string }).invalid,
        /not what its bytes are/,
      );
      assert.match(
        (await checkedOutputs(reported([{ ...good, path: "../etc/passwd" }]), store, 100) as { invalid: string })
          .invalid,
        /no valid path/,
      );
      assert.match((await checkedOutputs(reported([good]), store, 4) as { over: string }).over, /output limit/);
      assert.ok("invalid" in await checkedOutputs(reported({ not: "a list" }), store, 100));
    });
  });
});
