/**
 * What an agent's loop is doing, read from the peer that runs it: the step,
 * the turn, the test run in flight and the transcript so far. None of it is
 * in the space until the loop ends (the transcript is then stored as an
 * artifact named by the patch's provenance), so while it runs only that
 * peer knows it; this browser asks with a request it signs under
 * /weft/space/read, and checks and bounds what comes back before showing it.
 */
import { WeftError } from "#protocol";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { type ApiSigner, readBounded, refusalOf, signedFetch } from "../node/api-request.ts";

export interface TranscriptEntry {
  role: "system" | "user" | "assistant";
  content: string;
  /** Unix ms. */
  at: number;
}

export interface LoopView {
  task?: string;
  step: string;
  turn: number;
  /** The run task of its tests in flight, or of the last. */
  job?: string;
  startedAt: number;
  transcript: TranscriptEntry[];
  outcome?: { kind: string; patch?: string; reason?: string };
}

/** The most of an answer read (the peer keeps 50 entries of 4000 characters). */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;
const MAX_ENTRIES = 200;
const MAX_CHARS = 16_000;
const ROLES = new Set(["system", "user", "assistant"]);

const text = (v: unknown, max: number) => typeof v === "string" ? v.slice(0, max) : undefined;
const count = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : undefined;

/** The loop as the peer's answer gives it, checked field by field; undefined if it holds none. */
export function parseLoop(answer: unknown): LoopView | undefined {
  const loop = (answer as { loop?: unknown } | null)?.loop as Record<string, unknown> | undefined;
  if (!loop || typeof loop !== "object") return undefined;
  const step = text(loop.step, 32);
  if (step === undefined) return undefined;
  const transcript = (Array.isArray(loop.transcript) ? loop.transcript : []).slice(-MAX_ENTRIES)
    .filter((e): e is Record<string, unknown> => !!e && typeof e === "object" && ROLES.has(e.role))
    .map((e) => ({
      role: e.role as TranscriptEntry["role"],
      content: text(e.content, MAX_CHARS) ?? "",
      at: count(e.at) ?? 0,
    }));
  const o = loop.outcome as Record<string, unknown> | undefined;
  const outcome = o && typeof o === "object" && text(o.kind, 32)
    ? {
      kind: text(o.kind, 32)!,
      ...(text(o.patch, 64) ? { patch: text(o.patch, 64) } : {}),
      ...(text(o.reason, 2000) ? { reason: text(o.reason, 2000) } : {}),
    }
    : undefined;
  return {
    step,
    turn: count(loop.turn) ?? 0,
    startedAt: count(loop.startedAt) ?? 0,
    transcript,
    ...(text(loop.task, 64) ? { task: text(loop.task, 64) } : {}),
    ...(text(loop.job, 64) ? { job: text(loop.job, 64) } : {}),
    ...(outcome ? { outcome } : {}),
  };
}

/** Ask the peer at `origin` what agent `did`'s loop is doing there; undefined if that peer runs no loop of it. */
export async function fetchLoop(
  me: ApiSigner,
  space: Space,
  origin: string,
  did: string,
  signal?: AbortSignal,
): Promise<LoopView | undefined> {
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/agents/${encodeURIComponent(did)}`;
  const r = await signedFetch({
    me,
    space,
    origin,
    command: Commands.spaceRead,
    method: "GET",
    path,
    ...(signal ? { signal } : {}),
  });
  if (!r.ok) {
    throw new WeftError("Unavailable", "peer/unreachable", `the peer did not say (${await refusalOf(r) ?? r.status})`);
  }
  const body = await readBounded(
    r,
    MAX_ANSWER_BYTES,
    () => new WeftError("InvalidInput", "input/too-large", "the peer's answer about the agent is too large"),
  );
  try {
    return parseLoop(JSON.parse(new TextDecoder().decode(body)));
  } catch (e) {
    if (e instanceof WeftError) throw e;
    throw new WeftError("InvalidInput", "input/invalid", "the peer's answer about the agent is not JSON");
  }
}
