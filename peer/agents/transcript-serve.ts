/**
 * The serving side of `/weft/transcript/1`: a member asks for the live
 * transcript of an agent this peer runs. The order is the security, as
 * for git (peer/repo/git-serve.ts): the opening frame is read bounded and
 * checked; the asker must have proved `/weft/space/sync` for the space on a
 * live session with this node (by the DID its connection authenticated,
 * never what it says) — otherwise it is refused before the agent is even
 * looked up, so a non-member learns nothing, not even whether the agent
 * runs here. Then the events (loop/transcript-events.ts, bounded and paced)
 * go out one frame each, a few streams at a time, until the asker leaves,
 * stops holding the space (checked again every second), or the peer stops.
 */
import type { Connection, Stream } from "@libp2p/interface";
import { type ErrorCode, isWeftError, messageOf } from "#protocol";
import {
  decodeTranscriptRequest,
  encodeTranscriptAnswer,
  encodeTranscriptEvent,
  MAX_TRANSCRIPT_REQUEST_BYTES,
  TRANSCRIPT_PROTOCOL,
  TranscriptError,
  type TranscriptEvent,
  type TranscriptRequest,
} from "#protocol/agents";
import { didFromPeerId, type WeftNode } from "#protocol/node";
import { FrameReader, sendFrame } from "./transcript-stream.ts";

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

export interface TranscriptServer {
  /** Streams served now. */
  readonly running: number;
  stop(): Promise<void>;
}

/** Serve `/weft/transcript/1` on `node`'s libp2p. */
export async function serveTranscripts(node: WeftNode, options: TranscriptServeOptions): Promise<TranscriptServer> {
  const libp2p = node.libp2p;
  if (!libp2p) throw new TranscriptError("p2p/disabled", "this node has no libp2p to serve transcripts on");
  const maxConcurrent = options.maxConcurrent ?? 32;
  const openingMs = options.openingMs ?? 10_000;
  const running = new Set<AbortController>();
  let stopped = false;

  const refuse = (stream: Stream, from: string, code: ErrorCode, message: string, request?: TranscriptRequest) => {
    node.diagnostics.refuse({
      kind: "sync",
      from,
      what: request ? `transcript ${request.agent}` : "transcript",
      code,
      reason: message,
      ...(request ? { space: request.space } : {}),
    });
    void sendFrame(stream, encodeTranscriptAnswer({ code, message }))
      .then(() => stream.close())
      .catch(() => stream.abort(new Error("transcript stream closed")));
  };

  const handle = async (stream: Stream, connection: Connection): Promise<void> => {
    let from: string;
    try {
      from = didFromPeerId(connection.remotePeer);
    } catch {
      stream.abort(new Error("not a Weft peer"));
      return;
    }
    // The asker sends its opening and nothing more: a bad opening is answered; anything past it cuts the asker off.
    let opened = false;
    const reader = new FrameReader(stream, MAX_TRANSCRIPT_REQUEST_BYTES, 2 * MAX_TRANSCRIPT_REQUEST_BYTES, (e) => {
      if (opened) stream.abort(e);
    });
    let request: TranscriptRequest;
    try {
      const opening = await reader.next(openingMs);
      if (!opening) return void stream.abort(new Error("no opening frame"));
      request = decodeTranscriptRequest(opening);
      opened = true;
    } catch (e) {
      const error = isWeftError(e) ? e : new TranscriptError("sync/protocol", messageOf(e));
      return refuse(stream, from, error.code, error.message);
    }
    if (!node.provedSpace(from, request.space)) {
      return refuse(
        stream,
        from,
        "sync/refused",
        `${from} has not proved membership of ${request.space} on a live session with this node: join the space, or reconnect so the session proves it`,
        request,
      );
    }
    if (stopped) return refuse(stream, from, "transcript/busy", "this node is stopping", request);
    if (running.size >= maxConcurrent) {
      return refuse(stream, from, "transcript/busy", `serving ${maxConcurrent} transcripts already: retry shortly`);
    }
    const cancel = new AbortController();
    running.add(cancel);
    const membership = setInterval(() => {
      if (!node.provedSpace(from, request.space)) {
        node.diagnostics.count("transcript.cut-off.sync/refused");
        cancel.abort();
        stream.abort(new TranscriptError("sync/refused", `${from} no longer holds ${request.space}`));
      }
    }, MEMBERSHIP_CHECK_MS);
    const leave = () => cancel.abort();
    stream.addEventListener("close", leave);
    stream.addEventListener("remoteCloseWrite", leave);
    try {
      const events = await options.source(request.space, request.agent, {
        ...(request.from !== undefined ? { from: request.from } : {}),
        follow: request.follow === true,
        signal: cancel.signal,
      });
      if (!events) {
        return refuse(stream, from, "agent/unknown", `this peer runs no agent ${request.agent} in that space`, request);
      }
      await sendFrame(stream, encodeTranscriptAnswer({ ok: true }), cancel.signal);
      node.diagnostics.count("transcript.served");
      for await (const event of events) {
        await sendFrame(stream, encodeTranscriptEvent(event), cancel.signal);
      }
      await stream.close();
    } catch (e) {
      if (!cancel.signal.aborted) stream.abort(e as Error);
    } finally {
      clearInterval(membership);
      cancel.abort();
      running.delete(cancel);
    }
  };

  await libp2p.handle(TRANSCRIPT_PROTOCOL, (stream, connection) => void handle(stream, connection), {
    maxInboundStreams: 8,
    force: true,
  });

  return {
    get running() {
      return running.size;
    },
    async stop() {
      stopped = true;
      await libp2p.unhandle(TRANSCRIPT_PROTOCOL).catch(() => {});
      for (const cancel of [...running]) cancel.abort();
    },
  };
}
