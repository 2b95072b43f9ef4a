/**
 * The asking side of `/weft/transcript/1`: follow the live transcript of an
 * agent another peer runs. The request names the space and the agent, so it
 * goes only to a peer that proved the space on a live session (nothing of a
 * space reaches a non-member); which peer runs the agent is found by asking:
 * first those that issued its delegations (the peer that made it, usually
 * the one that runs it), then every other member connected. What comes back
 * is read bounded (each frame, the stream's total, a few frames held while
 * the reader is slow) and checked frame by frame before it is yielded.
 */
import type { Stream } from "@libp2p/interface";
import { isWeftError, messageOf } from "#protocol";
import {
  decodeTranscriptEvent,
  encodeTranscriptRequest,
  MAX_TRANSCRIPT_FRAME_BYTES,
  readTranscriptAnswer,
  TRANSCRIPT_LIMITS,
  TRANSCRIPT_PROTOCOL,
  TranscriptError,
  type TranscriptEvent,
  type TranscriptRequest,
} from "#protocol/agents";
import { peerIdFromDid, type WeftNode } from "#protocol/node";
import type { Space } from "#protocol/space";
import { FrameReader, sendFrame } from "./transcript-stream.ts";

/** How long a peer has to answer the opening, in ms. */
const ANSWER_MS = 15_000;
/** What a stream may carry past its entries' bound: status, gap and end events. */
const EVENT_SLACK_BYTES = 4 * 1024 * 1024;

export interface FollowOptions {
  /** The first entry of the current pass wanted (default 0). */
  from?: number;
  follow?: boolean;
  signal?: AbortSignal;
}

/**
 * Open agent `agent`'s transcript in `space` on `peer`: resolves once the
 * peer said yes, with its events (ending at its `end` event, when the peer
 * ends the stream, or when `signal` aborts). Throws the peer's refusal.
 */
export async function openTranscript(
  node: WeftNode,
  peer: string,
  request: TranscriptRequest,
  signal?: AbortSignal,
): Promise<AsyncGenerator<TranscriptEvent>> {
  const libp2p = node.libp2p;
  if (!libp2p) throw new TranscriptError("p2p/disabled", "this node has no libp2p to follow a transcript over");
  if (!node.provedSpace(peer, request.space)) {
    throw new TranscriptError(
      "sync/refused",
      `${peer} has not proved membership of ${request.space} on a live session: it is asked nothing`,
    );
  }
  const opening = encodeTranscriptRequest(request);
  let stream: Stream;
  try {
    stream = await libp2p.dialProtocol(peerIdFromDid(peer), TRANSCRIPT_PROTOCOL, signal ? { signal } : {});
  } catch (e) {
    throw new TranscriptError(
      "transcript/unreachable",
      `could not open a transcript stream to ${peer}: ${messageOf(e)}`,
      {
        cause: e,
      },
    );
  }
  const reader = new FrameReader(
    stream,
    MAX_TRANSCRIPT_FRAME_BYTES,
    TRANSCRIPT_LIMITS.streamBytes + EVENT_SLACK_BYTES,
    (e) => stream.abort(e),
  );
  const leave = () => stream.abort(new Error("the follower left"));
  signal?.addEventListener("abort", leave, { once: true });
  try {
    await sendFrame(stream, opening, signal);
    const answer = await reader.next(ANSWER_MS);
    if (!answer) throw new TranscriptError("transcript/unreachable", `${peer} closed the stream without answering`);
    readTranscriptAnswer(answer);
  } catch (e) {
    signal?.removeEventListener("abort", leave);
    stream.abort(e as Error);
    throw e;
  }
  return (async function* () {
    try {
      while (true) {
        const frame = await reader.next().catch((e) => {
          if (signal?.aborted) return undefined;
          throw isWeftError(e) ? e : new TranscriptError("transcript/unreachable", `the stream broke: ${messageOf(e)}`);
        });
        if (!frame) {
          if (signal?.aborted) return;
          throw new TranscriptError("transcript/unreachable", `${peer} ended the stream without saying why`);
        }
        const event = decodeTranscriptEvent(frame);
        yield event;
        if (event.type === "end") return;
      }
    } finally {
      signal?.removeEventListener("abort", leave);
      if (stream.status === "open") stream.abort(new Error("the follower is done"));
    }
  })();
}

/**
 * Agent `agent`'s transcript from whichever connected member runs it:
 * the issuers of its delegations first, then the other members. Throws
 * `transcript/unreachable`, saying whom it asked and what each said, when
 * none does.
 */
export async function openTranscriptAnywhere(
  node: WeftNode,
  space: Space,
  agent: string,
  options: FollowOptions = {},
): Promise<AsyncGenerator<TranscriptEvent>> {
  const members = node.membersConnected(space.id);
  const issuers = [...space.authority.delegations].filter((d) => d.aud === agent).map((d) => d.iss);
  const order = [...new Set([...issuers.filter((d) => members.includes(d)), ...members])];
  const request: TranscriptRequest = {
    space: space.id,
    agent,
    ...(options.from !== undefined ? { from: options.from } : {}),
    ...(options.follow ? { follow: true } : {}),
  };
  const said: string[] = [];
  for (const peer of order) {
    try {
      return await openTranscript(node, peer, request, options.signal);
    } catch (e) {
      if (options.signal?.aborted) throw e;
      said.push(`${peer}: ${messageOf(e)}`);
    }
  }
  throw new TranscriptError(
    "transcript/unreachable",
    order.length === 0
      ? `no member of the space is connected to this peer, and it does not run agent ${agent} itself`
      : `no connected member runs agent ${agent} (asked ${said.join("; ")})`,
  );
}
