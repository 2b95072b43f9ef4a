/**
 * `/weft/transcript/1`'s frames (protocol/agents/transcript-frames.ts), on
 * Node and Deno: the opening, the answer and every event round-trip; what
 * is malformed, of the wrong shape or over its bound is refused with a
 * typed error before anything reads it; content is cut to what an entry
 * carries, never half a character.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as cborg from "cborg";
import {
  checkTranscriptEvent,
  cutContent,
  decodeTranscriptEvent,
  decodeTranscriptRequest,
  encodeTranscriptAnswer,
  encodeTranscriptEvent,
  encodeTranscriptRequest,
  MAX_TRANSCRIPT_FRAME_BYTES,
  MAX_TRANSCRIPT_REQUEST_BYTES,
  readTranscriptAnswer,
  TRANSCRIPT_LIMITS,
  type TranscriptEvent,
} from "../../protocol/agents/index.ts";
import { lengthPrefixed, splitFrame } from "../../protocol/sync/length-frames.ts";
import { didFromPublicKey } from "../../protocol/identity/index.ts";

const space = didFromPublicKey(new Uint8Array(32).fill(7));
const agent = didFromPublicKey(new Uint8Array(32).fill(9));
const body = (frame: Uint8Array, max = MAX_TRANSCRIPT_FRAME_BYTES) => splitFrame(frame, max)!.frame;

describe("/weft/transcript/1 frames", () => {
  it("round-trips the opening, the answers and each kind of event", () => {
    const request = { space, agent, from: 4, follow: true };
    assert.deepEqual(
      decodeTranscriptRequest(body(encodeTranscriptRequest(request), MAX_TRANSCRIPT_REQUEST_BYTES)),
      request,
    );
    readTranscriptAnswer(body(encodeTranscriptAnswer({ ok: true })));
    assert.throws(() => readTranscriptAnswer(body(encodeTranscriptAnswer({ code: "sync/refused", message: "no" }))), {
      code: "sync/refused",
      message: /the peer refused: no/,
    });
    const events: TranscriptEvent[] = [
      {
        type: "status",
        startedAt: 1,
        step: "thinking",
        turn: 2,
        task: "abcdefgh12",
        approval: { request: "r1", kind: "push" },
      },
      {
        type: "entry",
        n: 3,
        role: "assistant",
        content: "{}",
        at: 5,
        turn: 2,
        usage: { inputTokens: 1, outputTokens: 2, costMicroUsd: 3, model: "m", provider: "p" },
      },
      { type: "gap", from: 0, to: 3, chars: 99 },
      { type: "end", code: "transcript/cut", message: "ask again from entry 9", next: 9 },
    ];
    for (const e of events) assert.deepEqual(decodeTranscriptEvent(body(encodeTranscriptEvent(e))), e);
  });

  it("refuses what is malformed, of the wrong shape or too large", () => {
    const frame = (v: unknown) => cborg.encode(v);
    assert.throws(() => decodeTranscriptRequest(Uint8Array.from([0xff, 0xfe])), { code: "sync/protocol" });
    assert.throws(() => decodeTranscriptRequest(frame({ space, agent: "did:web:x" })), { code: "sync/protocol" });
    assert.throws(() => decodeTranscriptRequest(frame({ space, agent, peer: "me" })), { code: "sync/protocol" });
    assert.throws(() => decodeTranscriptEvent(frame({ type: "entry", n: -1, role: "user", content: "", at: 0 })), {
      code: "sync/protocol",
    });
    assert.throws(() => checkTranscriptEvent({ type: "script" }), { code: "sync/protocol" });
    assert.throws(
      () =>
        checkTranscriptEvent({
          type: "entry",
          n: 0,
          role: "user",
          content: "x".repeat(TRANSCRIPT_LIMITS.entryChars + 1),
          at: 0,
        }),
      { code: "sync/protocol" },
    );
    // A length past the limit is refused on the prefix alone.
    const big = lengthPrefixed(new Uint8Array(MAX_TRANSCRIPT_FRAME_BYTES + 1));
    assert.throws(() => splitFrame(big.subarray(0, 4), MAX_TRANSCRIPT_FRAME_BYTES), { code: "input/too-large" });
  });

  it("cuts content to what an entry carries, never half a character", () => {
    assert.deepEqual(cutContent("abc", 5), { content: "abc" });
    assert.deepEqual(cutContent("abcdef", 4), { content: "abcd", cut: 2 });
    assert.deepEqual(cutContent("ab\u{1F600}cd", 3), { content: "ab", cut: 4 }, "the emoji's two halves stay together");
  });
});
