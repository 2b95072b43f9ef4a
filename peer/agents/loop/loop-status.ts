/**
 * What an agent's loop is doing on this peer, for people watching it (the
 * agent API's `loop` field, the dashboard's Agents view): the task, the
 * step, the turn, the test run's job id, the approval it waits for, its
 * lease, and the transcript so far (its last entries, each bounded), with
 * where the time went. Each change is announced to whoever watches the
 * status (`onChange`), so a live transcript follows it as it happens.
 */
export type LoopStep =
  | "claiming"
  | "thinking"
  | "editing"
  | "testing"
  | "approving"
  | "pushing"
  | "proposing"
  | "ended";

export interface TranscriptEntry {
  role: "system" | "user" | "assistant";
  content: string;
  /** Unix ms. */
  at: number;
  /** On the model's answers: the call's turn, tokens and cost. */
  turn?: number;
  usage?: { inputTokens: number; outputTokens: number; costMicroUsd: number; model: string; provider: string };
}

export interface LoopStatus {
  agent: string;
  task?: string;
  step: LoopStep;
  turn: number;
  /** The run task of the tests in flight, or of the last. */
  job?: string;
  /** While it waits for a person: the request to answer (`weft agent approve <request>`). */
  approval?: { request: string; kind: string; hash: string };
  /** The lease it holds on the task: its fencing token and when it lapses unless renewed (Unix ms). */
  lease?: { fence: number; expires: number };
  startedAt: number;
  /** Milliseconds spent per step. */
  timings: Record<string, number>;
  transcript: TranscriptEntry[];
  /** Once ended: proposed (with the patch), failed, stopped, or idle (no eligible task). */
  outcome?: { kind: "proposed" | "failed" | "stopped" | "idle"; patch?: string; reason?: string };
}

/** How much of the transcript the status keeps and shows. */
const SHOWN_ENTRIES = 50;
const SHOWN_CHARS = 4000;

export function statusView(s: LoopStatus): LoopStatus {
  return {
    ...s,
    timings: { ...s.timings },
    transcript: s.transcript.slice(-SHOWN_ENTRIES).map((e) => ({ ...e, content: e.content.slice(0, SHOWN_CHARS) })),
  };
}

/** Who hears of each change of a status (its loop's watchers). */
const listeners = new WeakMap<LoopStatus, () => void>();

/** Call `listener` on each later change of `status`. */
export function onChange(status: LoopStatus, listener: () => void): void {
  listeners.set(status, listener);
}

/** Announce a change of `status` (its step, job, approval, outcome or transcript). */
export function changed(status: LoopStatus): void {
  listeners.get(status)?.();
}

/** Add an entry to the transcript, as it happens. */
export function say(status: LoopStatus, entry: TranscriptEntry): void {
  status.transcript.push(entry);
  changed(status);
}

/** Time `work` into `status.timings[step]`, with the status showing `step` meanwhile. */
export async function timed<T>(status: LoopStatus, step: LoopStep, work: () => Promise<T>): Promise<T> {
  status.step = step;
  changed(status);
  const started = performance.now();
  try {
    return await work();
  } finally {
    status.timings[step] = (status.timings[step] ?? 0) + Math.round(performance.now() - started);
  }
}

/** Why a pass ended without a patch (the loop comments it on the task and releases it). */
export class LoopEnded extends Error {}

/** End a pass with `outcome`: what the status then shows. */
export function end(status: LoopStatus, outcome: NonNullable<LoopStatus["outcome"]>): LoopStatus {
  status.step = "ended";
  status.outcome = outcome;
  changed(status);
  return statusView(status);
}
