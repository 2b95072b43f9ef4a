/**
 * The pod status the Weft virtual node reports, as a kubelet would: Running
 * with its container started, then Succeeded or Failed with the container's
 * termination — the exit code, and for the limits a run has the reasons
 * Kubernetes uses (OOMKilled, DeadlineExceeded) or Weft's own
 * (OutputLimitExceeded, StartError), so the cluster (and the kubernetes
 * runner reading it back) sees how the run ended.
 */
import type { V1PodCondition, V1PodStatus } from "@kubernetes/client-node";
import type { RunResult } from "#protocol/runner";
import { REASONS } from "../pod-result.ts";

const conditions = (ready: boolean, at: Date): V1PodCondition[] =>
  ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
    type,
    status: type === "PodScheduled" || type === "Initialized" || ready ? "True" : "False",
    lastTransitionTime: at,
  }));

/** The pod's one container: its name, its image as the pod names it, and the digest it ran. */
export interface PodContainer {
  name: string;
  image: string;
  imageId: string;
}

export function runningStatus(c: PodContainer, hostIP: string, startedAt: Date): V1PodStatus {
  return {
    phase: "Running",
    hostIP,
    podIP: hostIP,
    startTime: startedAt,
    conditions: conditions(true, startedAt),
    containerStatuses: [{
      name: c.name,
      image: c.image,
      imageID: c.imageId,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt } },
    }],
  };
}

/** A result as the container's termination: exit code, Kubernetes reason, message. */
function termination(result: RunResult): { exitCode: number; reason: string; message?: string } {
  const message = result.reason;
  switch (result.status) {
    case "succeeded":
      return { exitCode: 0, reason: "Completed" };
    case "failed":
      return { exitCode: result.exitCode ?? 137, reason: "Error", ...(message ? { message } : {}) };
    case "timeout":
      return { exitCode: 137, reason: REASONS.wallTime, ...(message ? { message } : {}) };
    case "out-of-memory":
      return { exitCode: 137, reason: REASONS.memory, ...(message ? { message } : {}) };
    case "output-limit":
      return { exitCode: 1, reason: REASONS.output, ...(message ? { message } : {}) };
    case "stopped":
      return { exitCode: 137, reason: "Killed", ...(message ? { message } : {}) };
    case "error":
      return { exitCode: 128, reason: REASONS.error, ...(message ? { message } : {}) };
  }
}

export function endedStatus(c: PodContainer, hostIP: string, result: RunResult): V1PodStatus {
  const startedAt = new Date(result.startedAt);
  const finishedAt = new Date(result.endedAt);
  const t = termination(result);
  return {
    phase: result.status === "succeeded" ? "Succeeded" : "Failed",
    hostIP,
    podIP: hostIP,
    startTime: startedAt,
    ...(result.status === "timeout" ? { reason: REASONS.wallTime } : {}),
    ...(t.message ? { message: t.message.slice(0, 1024) } : {}),
    conditions: conditions(false, finishedAt),
    containerStatuses: [{
      name: c.name,
      image: c.image,
      imageID: c.imageId,
      ready: false,
      started: false,
      restartCount: 0,
      state: { terminated: { ...t, startedAt, finishedAt } },
    }],
  };
}

/** A pod this node will not run: Failed at once, saying why. */
export function refusedStatus(c: PodContainer, hostIP: string, why: string, at: Date): V1PodStatus {
  return {
    phase: "Failed",
    hostIP,
    reason: "Unsupported",
    message: why.slice(0, 1024),
    conditions: conditions(false, at),
    containerStatuses: [{
      name: c.name,
      image: c.image,
      imageID: c.imageId,
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode: 128, reason: REASONS.error, message: why.slice(0, 1024), finishedAt: at } },
    }],
  };
}
