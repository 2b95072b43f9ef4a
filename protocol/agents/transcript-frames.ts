/**
 * `/weft/transcript/1`: an agent's live transcript, from the peer that runs
 * it to a member of its space. While a loop runs, only that peer knows what
 * the model said, which tools it called and what they answered, and what
 * each call cost (the transcript reaches the space as an artifact only when
 * the patch is proposed); this stream carries it to any member as it
 * happens.
 *
 *   asker → server   varint length, CBOR {space, agent, from?, follow?}
 *   server → asker   varint length, CBOR {ok: true} | {code, message}
 *   then             server → asker: events, each one frame, until `end`
 *
 * Events: `status` (the pass: its task, step, turn, test job, the approval
 * it waits for, how it ended; a new `startedAt` is a new pass, whose entries
 * count from 0 again), `entry` (one turn of the conversation, its content cut
 * to ENTRY_CHARS with `cut` saying how much was left out), `gap` (entries
 * left out because the backlog exceeded BACKLOG_BYTES), `end` (no code: the
 * pass ended and the asker did not follow; else why the stream stopped).
 *
 * Everything is bounded before it is read (a frame over its limit is
 * refused on its length prefix) and decoded strictly, the same on both ends.
 */
import * as cborg from "cborg";
import { type ErrorCode, errorCodeOf } from "../error-codes.ts";
import { WeftError } from "../errors.ts";
import { bool, int, num, object, oneOf, optional, required, str } from "../schema/input-checks.ts";
import { didKey } from "../sync/frame-checks.ts";
import { decodeStrictCbor, lengthPrefixed } from "../sync/length-frames.ts";

export const TRANSCRIPT_PROTOCOL = "/weft/transcript/1";

/** What one stream carries at most, and how fast. */
export const TRANSCRIPT_LIMITS = {
  /** Characters of one entry's content sent; the rest is counted in `cut`. */
  entryChars: 16_000,
  /** Bytes of entries sent at the opening (the newest); older ones are a `gap`. */
  backlogBytes: 256 * 1024,
  /** Bytes one stream carries in all; then it ends with `transcript/cut`, naming where to ask again. */
  streamBytes: 16 * 1024 * 1024,
  /** Bytes a second, on average, once the backlog (the burst) is spent. */
  bytesPerSecond: 256 * 1024,
};

/** The largest request frame. */
export const MAX_TRANSCRIPT_REQUEST_BYTES = 1024;
/** The largest answer or event frame: an entry of ENTRY_CHARS (UTF-8, up to 3 bytes each) and its fields. */
export const MAX_TRANSCRIPT_FRAME_BYTES = 64 * 1024;

const count = int(0, Number.MAX_SAFE_INTEGER);
const time = num(0, Number.MAX_SAFE_INTEGER);
const short = str(0, 200);

const requestFrame = object({
  space: required(didKey),
  agent: required(didKey),
  /** The first entry of the current pass wanted (default 0). */
  from: optional(count),
  /** Keep the stream open: each new entry and status as it happens, across passes. */
  follow: optional(bool),
});
const answerFrame = object({ ok: optional(bool), code: optional(str(1, 64)), message: optional(str(0, 1024)) });

const statusEvent = object({
  type: required(oneOf("status")),
  startedAt: required(time),
  step: required(str(1, 32)),
  turn: required(count),
  task: optional(str(1, 64)),
  job: optional(str(1, 64)),
  approval: optional(object({ request: required(str(1, 64)), kind: required(str(1, 32)) })),
  outcome: optional(object({
    kind: required(str(1, 32)),
    patch: optional(str(1, 64)),
    reason: optional(str(0, 2000)),
  })),
});
const entryEvent = object({
  type: required(oneOf("entry")),
  /** Its place in the pass's transcript, from 0. */
  n: required(count),
  role: required(oneOf("system", "user", "assistant")),
  content: required(str(0, TRANSCRIPT_LIMITS.entryChars)),
  at: required(time),
  /** Characters of the content left out. */
  cut: optional(count),
  /** The model call this answer took: the turn, its tokens and cost. */
  turn: optional(count),
  usage: optional(object({
    inputTokens: required(count),
    outputTokens: required(count),
    costMicroUsd: required(count),
    model: required(short),
    provider: required(short),
  })),
});
const gapEvent = object({
  type: required(oneOf("gap")),
  /** Entries from..to-1 were left out. */
  from: required(count),
  to: required(count),
  /** Characters of content they held. */
  chars: required(count),
});
const endEvent = object({
  type: required(oneOf("end")),
  code: optional(str(1, 64)),
  message: optional(str(0, 1024)),
  /** After `transcript/cut`: the entry to ask from. */
  next: optional(count),
});

export type TranscriptRequest = ReturnType<typeof requestFrame>;
export type TranscriptStatusEvent = ReturnType<typeof statusEvent>;
export type TranscriptEntryEvent = ReturnType<typeof entryEvent>;
export type TranscriptGapEvent = ReturnType<typeof gapEvent>;
export type TranscriptEndEvent = ReturnType<typeof endEvent>;
export type TranscriptEvent = TranscriptStatusEvent | TranscriptEntryEvent | TranscriptGapEvent | TranscriptEndEvent;

const EVENT_CHECKS = { status: statusEvent, entry: entryEvent, gap: gapEvent, end: endEvent };

/** Why a transcript stream was refused or failed: the server's answer, or what the asker saw. */
export class TranscriptError extends WeftError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super("TranscriptError", code, message, options);
  }
}

function checked<T>(read: () => T, what: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof TranscriptError) throw e;
    throw new TranscriptError("sync/protocol", `malformed ${what}: ${(e as Error).message}`, { cause: e });
  }
}

export function encodeTranscriptRequest(request: TranscriptRequest): Uint8Array {
  return lengthPrefixed(cborg.encode(checked(() => requestFrame(request, "request"), "transcript request")));
}

/** Read a request frame's body (as split by `splitFrame`), strictly. */
export function decodeTranscriptRequest(body: Uint8Array): TranscriptRequest {
  return checked(() => requestFrame(decodeStrictCbor(body, "transcript request"), "request"), "transcript request");
}

/** The server's answer: go ahead, or a refusal with its code and what to do. */
export function encodeTranscriptAnswer(answer: { ok: true } | { code: ErrorCode; message: string }): Uint8Array {
  return lengthPrefixed(
    cborg.encode("ok" in answer ? { ok: true } : { code: answer.code, message: answer.message.slice(0, 1024) }),
  );
}

/** Read an answer frame's body: returns on "go", throws the refusal it carries. */
export function readTranscriptAnswer(body: Uint8Array): void {
  const answer = checked(() => answerFrame(decodeStrictCbor(body, "transcript answer"), "answer"), "transcript answer");
  if (answer.ok === true) return;
  throw new TranscriptError(
    errorCodeOf(answer.code, "sync/refused"),
    `the peer refused: ${answer.message ?? "no reason given"}`,
  );
}

/** An event as one frame (checked as the asker will check it). */
export function encodeTranscriptEvent(event: TranscriptEvent): Uint8Array {
  return lengthPrefixed(cborg.encode(checkTranscriptEvent(event)));
}

/** Check an event, whatever it came from. */
export function checkTranscriptEvent(value: unknown): TranscriptEvent {
  return checked(() => {
    const type = (value as { type?: unknown } | null)?.type;
    const check = typeof type === "string" && Object.hasOwn(EVENT_CHECKS, type)
      ? EVENT_CHECKS[type as keyof typeof EVENT_CHECKS]
      : undefined;
    if (!check) throw new TranscriptError("sync/protocol", `unknown transcript event type ${String(type)}`);
    return check(value, "event") as TranscriptEvent;
  }, "transcript event");
}

/** Read an event frame's body, strictly. */
export function decodeTranscriptEvent(body: Uint8Array): TranscriptEvent {
  return checkTranscriptEvent(checked(() => decodeStrictCbor(body, "transcript event"), "transcript event"));
}

/**
 * An entry's content as sent: at most ENTRY_CHARS characters (never half of
 * a surrogate pair), and how many were left out.
 */
export function cutContent(content: string, max = TRANSCRIPT_LIMITS.entryChars): { content: string; cut?: number } {
  if (content.length <= max) return { content };
  let end = max;
  const last = content.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return { content: content.slice(0, end), cut: content.length - end };
}
