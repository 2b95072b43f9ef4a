/**
 * The editor pod's manifest and the spec checks in front of it: the pod is
 * owned by the run's Job (so the garbage collector takes it with the Job),
 * lands only on Weft virtual nodes, mounts no service-account token, is
 * selected by the namespace's deny-all policy and never by the run's egress
 * policy, and serves code-server on a Unix socket with its own login off.
 * A spec asking for an editor needs a source tree, a cluster that names an
 * editor image, and the kubernetes runner.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Job } from "@kubernetes/client-node";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { parseKubernetesConfig } from "../../bridges/kubernetes/config.ts";
import { baselinePolicy, egressPolicy, INPUTS_ANNOTATION } from "../../bridges/kubernetes/job-manifest.ts";
import { EDITOR_PORT, editorPod } from "../../bridges/kubernetes/editor/editor-pod.ts";
import { checkKubernetesSpec } from "../../bridges/kubernetes/spec.ts";
import { checkContainerSpec } from "../../bridges/containers/spec.ts";
import { PORTS_DIR } from "../../bridges/containers/backend.ts";
import { parseNixProgram } from "../../bridges/nix/program.ts";
import { requestedPorts } from "../../bridges/kubernetes/virtual-node/port-forward.ts";

const IMAGE = `sha256:${"a".repeat(64)}`;
const config = { ...parseKubernetesConfig({ tolerate_virtual_nodes: true }), editorImage: `sha256:${"e".repeat(64)}` };
const spec: RunSpec = {
  runner: "kubernetes",
  program: IMAGE,
  args: ["sleep", "60"],
  inputs: [{ path: "data.csv", cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" }],
  env: [],
  limits: { wallMs: 90_000, memoryMb: 64, outputBytes: 1024 },
  source: { cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" },
  editor: true,
};
const job: V1Job = { metadata: { name: "weft-abc", uid: "1234-5678" } };

/** Does `policy`'s podSelector pick labels `labels`? */
const selects = (policy: { spec?: { podSelector?: { matchLabels?: Record<string, string> } } }, labels = {}) =>
  Object.entries(policy.spec?.podSelector?.matchLabels ?? {}).every(([k, v]) =>
    (labels as Record<string, string>)[k] === v
  );

describe("the editor pod", () => {
  const pod = editorPod(spec, job, "abc", config, { space: "did:key:zSpace", task: "t1" });

  it("is owned by the run's Job, lands on virtual nodes only, and mounts no token", () => {
    assert.deepEqual(pod.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [[
      "Job",
      "weft-abc",
      "1234-5678",
    ]]);
    assert.deepEqual(pod.spec?.nodeSelector, { "weft.dev/virtual-node": "true" });
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.equal(pod.spec?.activeDeadlineSeconds, 90);
    assert.equal(pod.spec?.containers[0].image, config.editorImage);
  });

  it("is cut off by the namespace's baseline policy and never opened by the run's egress policy", () => {
    assert.ok(selects(baselinePolicy(config), pod.metadata?.labels));
    assert.ok(!selects(egressPolicy("abc", config), pod.metadata?.labels));
  });

  it("gets the run's source tree and nothing else, and serves code-server on a socket with its login off", () => {
    assert.deepEqual(JSON.parse(pod.metadata?.annotations?.[INPUTS_ANNOTATION] ?? "{}"), {
      inputs: [],
      source: spec.source,
    });
    const command = pod.spec?.containers[0].command ?? [];
    assert.equal(command[command.indexOf("--socket") + 1], `${PORTS_DIR}/${EDITOR_PORT}`);
    assert.equal(command[command.indexOf("--auth") + 1], "none");
    assert.equal(command.at(-1), "/src");
    assert.deepEqual(pod.spec?.containers[0].ports?.map((p) => p.containerPort), [EDITOR_PORT]);
  });
});

describe("a spec asking for an editor", () => {
  it("needs a source tree and a cluster naming an editor image", () => {
    assert.equal(checkKubernetesSpec(spec, config).editor, true);
    const { source: _, ...noSource } = spec;
    assert.throws(() => checkKubernetesSpec(noSource, config), /spec\.editor.*needs spec\.source/);
    assert.throws(
      () => checkKubernetesSpec(spec, { ...config, editorImage: undefined }),
      /names no code-server image/,
    );
  });

  it("is refused by every runner but kubernetes", () => {
    assert.throws(() => checkContainerSpec({ ...spec, runner: "container" }), /spec\.editor.*"kubernetes" runner only/);
    assert.throws(
      () => parseNixProgram({ ...spec, runner: "nix", program: "#default", args: [] }, () => "/src"),
      /spec\.editor is honoured by the "kubernetes" runner only/,
    );
  });
});

describe("the virtual node's port-forward ports", () => {
  it("reads ?port= as the API server sends it, and ?ports= lists; refuses what is not a port", () => {
    assert.deepEqual(requestedPorts(new URL("https://n/portForward/ns/p?port=8080")), [8080]);
    assert.deepEqual(requestedPorts(new URL("https://n/portForward/ns/p?ports=80,443")), [80, 443]);
    assert.equal(typeof requestedPorts(new URL("https://n/portForward/ns/p")), "string");
    assert.equal(typeof requestedPorts(new URL("https://n/portForward/ns/p?port=70000")), "string");
    assert.equal(typeof requestedPorts(new URL("https://n/portForward/ns/p?port=1e3")), "string");
  });
});
