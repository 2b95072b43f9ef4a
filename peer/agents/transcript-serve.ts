/**
 * The serving side of `/weft/transcript/1`: a member asks for the live
 * transcript of an agent this peer runs. Only a member is served, as for
 * git (peer/p2p/members-only-server.ts): a non-member is refused before the
 * agent is even looked up, so it learns nothing, not even whether the agent
 * runs here. Then the events (loop/transcript-events.ts, bounded and paced)
 * go out one frame each, a few streams at a time, until the asker leaves,
 * stops holding the space (checked again every second), or the peer stops.
 */
import {
  decodeTranscriptRequest,
  encodeTranscriptAnswer,
  encodeTranscriptEvent,
  MAX_TRANSCRIPT_REQUEST_BYTES,
  TRANSCRIPT_PROTOCOL,
  TranscriptError,
  type TranscriptEvent,
} from "#protocol/agents";
import type { WeftNode } from "#protocol/node";
import { FrameReader, sendFrame } from "./transcript-stream.ts";
import { type MembersOnlyServer, serveMembersOnly } from "../p2p/members-only-server.ts";

/** How often a stream re-checks that its asker still holds the space, in ms. */
const MEMBERSHIP_CHECK_MS = 1000;

/** The events of agent `agent`'s transcript in `space`, if this peer runs it; undefined otherwise. */
export type TranscriptSource = (
  space: string,
  agent: string,
  options: { from?: number; follow: boolean; signal: AbortSignal },
) => Promise<AsyncIterable<TranscriptEvent> | undefined>;

export interface TranscriptServeOptions {
  source: TranscriptSource;
  /** Streams served at once; more askers are told to retry (transcript/busy). Default 32. */
  maxConcurrent?: number;
  /** How long an asker has to send its opening frame, in ms. Default 10 s. */
  openingMs?: number;
}

export type TranscriptServer = MembersOnlyServer;

/** Serve `/weft/transcript/1` on `node`'s libp2p. */
export function serveTranscripts(node: WeftNode, options: TranscriptServeOptions): Promise<TranscriptServer> {
  const maxConcurrent = options.maxConcurrent ?? 32;
  return serveMembersOnly(node, {
    protocol: TRANSCRIPT_PROTOCOL,
    name: "transcript",
    plural: "transcripts",
    maxConcurrent,
    maxInboundStreams: 8,
    busyCode: "transcript/busy",
    openingMs: options.openingMs ?? 10_000,
    membershipCheckMs: MEMBERSHIP_CHECK_MS,
    open: async (stream, openingMs) => {
      // The asker sends its opening and nothing more: a bad opening is answered; anything past it cuts the asker off.
      let opened = false;
      const reader = new FrameReader(stream, MAX_TRANSCRIPT_REQUEST_BYTES, 2 * MAX_TRANSCRIPT_REQUEST_BYTES, (e) => {
        if (opened) stream.abort(e);
      });
      const opening = await reader.next(openingMs);
      if (!opening) throw new TranscriptError("sync/protocol", "no opening frame");
      const request = decodeTranscriptRequest(opening);
      opened = true;
      return { request };
    },
    error: (code, message) => new TranscriptError(code, message),
    describe: (request) => `transcript ${request.agent}`,
    answer: (stream, code, message) =>
      void sendFrame(stream, encodeTranscriptAnswer({ code, message }))
        .then(() => stream.close())
        .catch(() => stream.abort(new Error("transcript stream closed"))),
    serve: async (stream, { request }, { signal, refuse }) => {
      // The asker leaving ends the events as a cut-off does.
      const left = new AbortController();
      const leave = () => left.abort();
      stream.addEventListener("close", leave);
      stream.addEventListener("remoteCloseWrite", leave);
      const ended = AbortSignal.any([signal, left.signal]);
      const events = await options.source(request.space, request.agent, {
        ...(request.from !== undefined ? { from: request.from } : {}),
        follow: request.follow === true,
        signal: ended,
      });
      if (!events) return refuse("agent/unknown", `this peer runs no agent ${request.agent} in that space`);
      await sendFrame(stream, encodeTranscriptAnswer({ ok: true }), ended);
      node.diagnostics.count("transcript.served");
      for await (const event of events) await sendFrame(stream, encodeTranscriptEvent(event), ended);
      await stream.close();
      left.abort();
    },
  });
}
