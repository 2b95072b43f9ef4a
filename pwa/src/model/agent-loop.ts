/**
 * What an agent's loop is doing, followed live: the step, the turn, the
 * test run in flight, and the transcript as it happens — each model answer
 * with its tokens and cost, each tool's result. None of it is in the space
 * until the loop ends (the transcript is then stored as an artifact named
 * by the patch's provenance), so while it runs only the peer running the
 * agent knows it. This browser asks the peer that served it, with a request
 * it signs under /weft/space/read; that peer answers from its own loop, or
 * relays it from the member peer that runs the agent (/weft/transcript/1).
 * Every event is checked as the wire checks it, and the view is bounded:
 * the newest MAX_ENTRIES entries, lines of at most MAX_LINE_BYTES.
 */
import { errorCodeOf, WeftError } from "#protocol";
import { checkTranscriptEvent, type TranscriptEntryEvent, type TranscriptEvent } from "#protocol/agents";
import type { Space } from "#protocol/space";
import { type ApiSigner, readNdjson } from "../node/api-request.ts";

export type TranscriptEntry = Omit<TranscriptEntryEvent, "type">;

export interface LoopView {
  task?: string;
  step: string;
  turn: number;
  /** The run task of its tests in flight, or of the last. */
  job?: string;
  startedAt: number;
  /** The newest entries, in order; those before the first are not shown here. */
  transcript: TranscriptEntry[];
  /** Characters of the entries the peer left out at the start (its backlog bound). */
  leftChars?: number;
  outcome?: { kind: string; patch?: string; reason?: string };
}

/** Entries kept on screen. */
export const MAX_ENTRIES = 200;
/** The longest line read: one event (the peer cuts an entry to 16000 characters). */
const MAX_LINE_BYTES = 256 * 1024;

/** The view after `event`: a status of a new pass starts afresh; entries are added, the oldest dropped. */
export function applyEvent(view: LoopView | undefined, event: TranscriptEvent): LoopView | undefined {
  switch (event.type) {
    case "status": {
      const same = view?.startedAt === event.startedAt;
      const { type: _, ...status } = event;
      return {
        ...status,
        transcript: same ? view!.transcript : [],
        ...(same && view!.leftChars ? { leftChars: view!.leftChars } : {}),
      };
    }
    case "entry": {
      if (!view) return view;
      const { type: _, ...entry } = event;
      return { ...view, transcript: [...view.transcript, entry].slice(-MAX_ENTRIES) };
    }
    case "gap":
      return view && { ...view, leftChars: (view.leftChars ?? 0) + event.chars };
    case "end":
      return view;
  }
}

/**
 * Follow agent `did`'s loop through the peer at `origin`, calling `onView`
 * with each new view: first once the peer accepted (undefined: no pass has
 * started there yet), then on every event. Resolves when the peer ends the
 * stream; throws what it refused or why it stopped.
 */
export async function followLoop(
  me: ApiSigner,
  space: Space,
  origin: string,
  did: string,
  onView: (view: LoopView | undefined) => void,
  signal?: AbortSignal,
): Promise<void> {
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/agents/${encodeURIComponent(did)}/transcript?follow=true`;
  const lines = await readNdjson({ me, space, origin, path, ...(signal ? { signal } : {}) }, MAX_LINE_BYTES);
  let view: LoopView | undefined;
  onView(view);
  for await (const line of lines) {
    const event = checkTranscriptEvent(line);
    if (event.type === "end" && event.code) {
      throw new WeftError("Unavailable", errorCodeOf(event.code, "peer/unreachable"), event.message ?? event.code);
    }
    view = applyEvent(view, event);
    onView(view);
  }
}
