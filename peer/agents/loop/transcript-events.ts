/**
 * An agent's loop on this peer as a stream of transcript events, as it
 * happens: what the API answers for a local agent and what
 * `/weft/transcript/1` sends to members on other peers, one reading for
 * both. It walks the pass's transcript with a cursor (nothing is copied or
 * queued, however far behind a reader is), and bounds what it sends the
 * way the wire does (protocol/agents/transcript-frames.ts): each entry's
 * content cut with a count of what was left out, the backlog at the opening
 * cut to its newest entries behind a `gap`, the stream's total bytes, and
 * its rate once the backlog's burst is spent.
 */
import {
  cutContent,
  TRANSCRIPT_LIMITS,
  type TranscriptEntryEvent,
  type TranscriptEvent,
  type TranscriptStatusEvent,
} from "#protocol/agents";
import type { PeerAgents } from "../peer-agents.ts";
import type { TranscriptSource } from "../transcript-serve.ts";
import type { AgentLoops } from "./agent-loop.ts";
import type { LoopStatus, TranscriptEntry } from "./loop-status.ts";

export interface TranscriptReadOptions {
  /** The first entry of the current pass wanted. */
  from?: number;
  /** Keep going: each new entry and status, across passes, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  limits?: typeof TRANSCRIPT_LIMITS;
}

const utf8 = new TextEncoder();

function statusEvent(s: Readonly<LoopStatus>): TranscriptStatusEvent {
  return {
    type: "status",
    startedAt: s.startedAt,
    step: s.step,
    turn: s.turn,
    ...(s.task ? { task: s.task } : {}),
    ...(s.job ? { job: s.job } : {}),
    ...(s.approval ? { approval: { request: s.approval.request, kind: s.approval.kind } } : {}),
    ...(s.outcome
      ? {
        outcome: {
          kind: s.outcome.kind,
          ...(s.outcome.patch ? { patch: s.outcome.patch } : {}),
          ...(s.outcome.reason ? { reason: s.outcome.reason.slice(0, 2000) } : {}),
        },
      }
      : {}),
  };
}

function entryEvent(e: TranscriptEntry, n: number, chars: number): TranscriptEntryEvent {
  const { content, cut } = cutContent(e.content, chars);
  return {
    type: "entry",
    n,
    role: e.role,
    content,
    at: e.at,
    ...(cut ? { cut } : {}),
    ...(e.turn !== undefined ? { turn: e.turn } : {}),
    ...(e.usage
      ? {
        usage: {
          ...e.usage,
          model: e.usage.model.slice(0, 200),
          provider: e.usage.provider.slice(0, 200),
        },
      }
      : {}),
  };
}

/** The bytes an entry takes on the wire, near enough to bound by (its content dominates). */
const sizeOf = (e: TranscriptEntryEvent) => utf8.encode(e.content).length + 128;

/** Paces bytes to `rate` a second on average, allowing `burst` at once. */
class Pacer {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last = performance.now();
  constructor(rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
  }
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#last) * this.rate / 1000);
    this.#last = now;
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return;
    const waitMs = -this.#tokens * 1000 / this.rate;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** Where the backlog from `from` starts once cut to its newest `budget` bytes, and the characters left out. */
function backlogStart(entries: readonly TranscriptEntry[], from: number, budget: number, chars: number) {
  let bytes = 0;
  let start = entries.length;
  while (start > from) {
    const size = sizeOf(entryEvent(entries[start - 1], start - 1, chars));
    if (bytes + size > budget) break;
    bytes += size;
    start--;
  }
  let left = 0;
  for (let i = from; i < start; i++) left += entries[i].content.length;
  return { start, left };
}

/** Agent `name`'s transcript on this peer as events; ends with an `end` event unless `signal` aborts first. */
export async function* transcriptEvents(
  loops: AgentLoops,
  name: string,
  options: TranscriptReadOptions = {},
): AsyncGenerator<TranscriptEvent> {
  const limits = options.limits ?? TRANSCRIPT_LIMITS;
  const signal = options.signal;
  const pacer = new Pacer(limits.bytesPerSecond, limits.backlogBytes);
  let dirty = true;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const unwatch = loops.watch(name, poke);
  signal?.addEventListener("abort", poke, { once: true });
  let pass: Readonly<LoopStatus> | undefined;
  let next = options.from ?? 0;
  let opened = false;
  let shown = "";
  let sent = 0;
  try {
    while (!signal?.aborted) {
      dirty = false;
      const now = loops.current(name);
      if (now !== pass && now) {
        if (pass) next = 0; // a new pass: its entries count from 0
        pass = now;
        opened = false;
      }
      if (pass) {
        const status = statusEvent(pass);
        const key = JSON.stringify(status);
        if (key !== shown) {
          shown = key;
          yield status;
        }
        if (!opened) {
          opened = true;
          const { start, left } = backlogStart(pass.transcript, next, limits.backlogBytes, limits.entryChars);
          if (start > next) {
            yield { type: "gap", from: next, to: start, chars: left };
            next = start;
          }
        }
        while (next < pass.transcript.length && !signal?.aborted) {
          const event = entryEvent(pass.transcript[next], next, limits.entryChars);
          const size = sizeOf(event);
          if (sent + size > limits.streamBytes) {
            yield {
              type: "end",
              code: "transcript/cut",
              message: `this stream carried its limit of ${limits.streamBytes} bytes: ask again from entry ${next}`,
              next,
            };
            return;
          }
          await pacer.take(size, signal);
          if (signal?.aborted) return;
          sent += size;
          next++;
          yield event;
          if (pass !== loops.current(name)) break; // a new pass began meanwhile: show it
        }
      }
      if (!options.follow && (!pass || next >= pass.transcript.length)) {
        yield { type: "end" };
        return;
      }
      if (!dirty) await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
  } finally {
    unwatch();
    signal?.removeEventListener("abort", poke);
  }
}

/** What `/weft/transcript/1` serves on this peer: the agents it runs, by DID, each only in its own space. */
export function loopTranscripts(agents: PeerAgents, loops: AgentLoops): TranscriptSource {
  return async (space, agent, options) => {
    const record = (await agents.list(space)).find((r) => r.did === agent);
    return record && transcriptEvents(loops, record.name, options);
  };
}
