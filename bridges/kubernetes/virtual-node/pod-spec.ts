/**
 * What a pod bound to the Weft virtual node becomes: a container run spec
 * for the mesh's container runner. Only what that runner can honour is
 * accepted — one container, its image named by digest (images come from the
 * mesh's store, never a registry), plain env values — and anything else is
 * refused with a WeftError saying what to change. The files it reads (its
 * inputs and source tree by CID, in the `weft.dev/inputs` annotation the
 * kubernetes runner writes) are checked as a run spec's are and handed to the
 * container runner, which fetches them from the mesh. Its limits come from the
 * pod (memory limit, activeDeadlineSeconds, the size of the volume at
 * /outputs); it gets the network only where the node allows it and no
 * NetworkPolicy restricts the pod's egress.
 */
import type { V1NetworkPolicy, V1Pod } from "@kubernetes/client-node";
import { WeftError } from "#protocol";
import { type RunSpec, runSpecShape } from "#protocol/runner";
import { INPUTS_ANNOTATION, OUTPUTS_DIR } from "../job-manifest.ts";
import { quantity } from "../quantity.ts";

export interface PodDefaults {
  /** Whether this node lets pods have the network at all. */
  network: boolean;
  /** Wall time of a pod without activeDeadlineSeconds. */
  wallMs: number;
  /** Memory of a pod without a memory limit or request. */
  memoryMb: number;
  /** Output bytes of a pod without a sized volume at /outputs. */
  outputBytes: number;
}

const DIGEST = /^(?:[^@\s]+@)?(sha256:[0-9a-f]{64})$/;

function unsupported(pod: V1Pod, what: string): WeftError {
  return new WeftError(
    "KubernetesError",
    "kubernetes/pod-unsupported",
    `pod ${pod.metadata?.namespace}/${pod.metadata?.name} cannot run on a Weft virtual node: ${what}`,
  );
}

/** Does `policy` apply to `pod` (its podSelector's matchLabels, the only selector this checks, match)? */
function selects(policy: V1NetworkPolicy, pod: V1Pod): boolean {
  const selector = policy.spec?.podSelector ?? {};
  if ((selector.matchExpressions ?? []).length > 0) return true; // not evaluated here: assume it applies
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * May the pod reach the network, given the NetworkPolicies of its namespace?
 * Egress is open unless a policy selects the pod for egress; then only a rule
 * allowing everything (`{}`) opens it, since this node cannot enforce finer rules.
 */
export function egressAllowed(pod: V1Pod, policies: V1NetworkPolicy[]): boolean {
  const egress = policies.filter((p) => selects(p, pod) && (p.spec?.policyTypes ?? []).includes("Egress"));
  if (egress.length === 0) return true;
  return egress.some((p) => (p.spec?.egress ?? []).some((rule) => !rule.to?.length && !rule.ports?.length));
}

/** The most annotation text read for a pod's files (the API server allows 256 KiB for all annotations). */
const MAX_FILES_ANNOTATION = 64 * 1024;

/** The inputs and source tree the pod's annotation names, checked; none without the annotation. */
function podFiles(pod: V1Pod): Pick<RunSpec, "inputs" | "source"> {
  const text = pod.metadata?.annotations?.[INPUTS_ANNOTATION];
  if (text === undefined) return { inputs: [] };
  if (text.length > MAX_FILES_ANNOTATION) {
    throw unsupported(pod, `its ${INPUTS_ANNOTATION} annotation is over ${MAX_FILES_ANNOTATION} characters`);
  }
  let raw: { inputs?: unknown; source?: unknown };
  try {
    raw = JSON.parse(text);
  } catch {
    throw unsupported(pod, `its ${INPUTS_ANNOTATION} annotation is not JSON`);
  }
  try {
    const { inputs, source } = runSpecShape({
      runner: "container",
      program: "-",
      args: [],
      env: [],
      limits: { wallMs: 1, memoryMb: 1, outputBytes: 0 },
      inputs: raw?.inputs ?? [],
      ...(raw?.source !== undefined ? { source: raw.source } : {}),
    }, INPUTS_ANNOTATION);
    return { inputs, ...(source ? { source } : {}) };
  } catch (e) {
    throw unsupported(pod, (e as Error).message);
  }
}

export function podRunSpec(pod: V1Pod, policies: V1NetworkPolicy[], defaults: PodDefaults): RunSpec {
  const spec = pod.spec;
  const containers = spec?.containers ?? [];
  if (containers.length !== 1) throw unsupported(pod, `it has ${containers.length} containers; it runs exactly one`);
  if ((spec?.initContainers ?? []).length > 0) throw unsupported(pod, "it has init containers");
  const [c] = containers;
  const digest = DIGEST.exec(c.image ?? "")?.[1];
  if (!digest) {
    throw unsupported(pod, `its image "${c.image}" is not named by digest (…@sha256:<hex>, or sha256:<hex>)`);
  }
  const env = (c.env ?? []).map((e) => {
    if (e.value === undefined && e.valueFrom) throw unsupported(pod, `env ${e.name} takes its value from elsewhere`);
    return { name: e.name, value: e.value ?? "" };
  });
  const memory = quantity(c.resources?.limits?.memory ?? c.resources?.requests?.memory);
  const outputsVolume = (c.volumeMounts ?? []).find((m) => m.mountPath === OUTPUTS_DIR)?.name;
  const sized = spec?.volumes?.find((v) => v.name === outputsVolume)?.emptyDir?.sizeLimit;
  return {
    runner: "container",
    program: digest,
    args: [...(c.command ?? []), ...(c.args ?? [])],
    ...podFiles(pod),
    env,
    limits: {
      wallMs: spec?.activeDeadlineSeconds ? spec.activeDeadlineSeconds * 1000 : defaults.wallMs,
      memoryMb: memory > 0 ? Math.ceil(memory / 2 ** 20) : defaults.memoryMb,
      outputBytes: sized ? Math.floor(quantity(sized)) : defaults.outputBytes,
    },
    network: defaults.network && egressAllowed(pod, policies),
  };
}
