/**
 * How a run's pod ended, read from what the API says of it: its container's
 * termination (exit code, and the reasons a Weft virtual node or a kubelet
 * give for limits: OOMKilled, DeadlineExceeded, OutputLimitExceeded) as a
 * run outcome, and the outputs a Weft virtual node reported on the pod,
 * trusted only after each one's bytes are found in the store and match; and
 * which of a Job's pods is the run's when the cluster made more than one.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { cidOf, RAW } from "#protocol/codec";
import { messageOf } from "#protocol";
import type { ContentStore, OutputFile, RunOutcome, RunSpec } from "#protocol/runner";
import { RUN_PATH } from "#protocol/runner";
import { fetchVerified } from "../../wasm-runners/core/content.ts";
import { CONTAINER, OUTPUTS_ANNOTATION } from "./job-manifest.ts";

/**
 * The Job's pod that counts: one not being deleted (a pod evicted from a lost
 * node stays Terminating there while its replacement runs), started before
 * pending, the newest first.
 */
export function currentPod(pods: V1Pod[]): V1Pod | undefined {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const made = (p: V1Pod) => p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0;
  const newest = [...(live.length > 0 ? live : pods)].sort((a, b) => made(b) - made(a));
  return newest.find((p) => p.status?.phase !== "Pending") ?? newest[0];
}

/** Termination reasons for the limits a run has, as the pod's container status gives them. */
export const REASONS = {
  memory: "OOMKilled",
  wallTime: "DeadlineExceeded",
  output: "OutputLimitExceeded",
  error: "StartError",
} as const;

/** The outcome the pod's run container ended with (outputs not yet read). */
export function terminatedOf(pod: V1Pod | undefined, spec: RunSpec): RunOutcome {
  const status = pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER);
  const t = status?.state?.terminated;
  if (!t) {
    const why = pod?.status?.message ?? pod?.status?.reason ?? "its pod never ran";
    return { status: "error", reason: `the Job ended without its container ending: ${why}`, outputs: [] };
  }
  const message = t.message ? `: ${t.message}` : "";
  switch (t.reason) {
    case REASONS.memory:
      return { status: "out-of-memory", reason: `ran out of its ${spec.limits.memoryMb} MB memory limit`, outputs: [] };
    case REASONS.wallTime:
      return { status: "timeout", reason: `exceeded its ${spec.limits.wallMs} ms wall-time limit`, outputs: [] };
    case REASONS.output:
      return { status: "output-limit", reason: t.message ?? "it passed its output limit", outputs: [] };
    case REASONS.error:
      return { status: "error", reason: `its container could not run${message}`, outputs: [] };
  }
  if (t.exitCode === 0) return { status: "succeeded", exitCode: 0, outputs: [] };
  return { status: "failed", exitCode: t.exitCode, reason: `exited with code ${t.exitCode}${message}`, outputs: [] };
}

const MAX_ANNOTATION = 256 * 1024;
const MAX_OUTPUTS = 10_000;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The outputs reported on the pod, each checked: its bytes are in the store
 * (fetched from the mesh if need be), hash to its CID, and have the size
 * and sha-256 it claims; together within `budget` bytes. No annotation: no
 * outputs (a pod on a kubelet node has no way to hand its files back).
 */
export async function checkedOutputs(
  pod: V1Pod | undefined,
  store: ContentStore,
  budget: number,
): Promise<{ files: OutputFile[] } | { over: string } | { invalid: string }> {
  const text = pod?.metadata?.annotations?.[OUTPUTS_ANNOTATION];
  if (text === undefined) return { files: [] };
  const invalid = (why: string) => ({ invalid: `the outputs reported on the pod are not valid: ${why}` });
  if (text.length > MAX_ANNOTATION) return invalid(`the annotation is over ${MAX_ANNOTATION} bytes`);
  let claimed: unknown;
  try {
    claimed = JSON.parse(text);
  } catch (e) {
    return invalid(messageOf(e));
  }
  if (!Array.isArray(claimed) || claimed.length > MAX_OUTPUTS) return invalid("not a list of outputs");
  const files: OutputFile[] = [];
  let total = 0;
  for (const [i, c] of claimed.entries()) {
    const o = c as Partial<OutputFile>;
    if (typeof o?.path !== "string" || !RUN_PATH.test(o.path) || typeof o.cid !== "string") {
      return invalid(`output ${i} has no valid path and CID`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await fetchVerified(store, o.cid, `output ${o.path}`);
    } catch (e) {
      return invalid(messageOf(e));
    }
    const cid = cidOf(bytes, RAW);
    const file = { path: o.path, size: bytes.length, sha256: hex(cid.multihash.digest), cid: cid.toString() };
    if (o.cid !== file.cid || o.size !== file.size || o.sha256 !== file.sha256) {
      return invalid(`output ${o.path} is not what its bytes are`);
    }
    total += file.size;
    if (total > budget) return { over: `its outputs passed its output limit (${budget} bytes left after its logs)` };
    files.push(file);
  }
  return { files };
}
