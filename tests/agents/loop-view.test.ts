/**
 * The dashboard's reading of an agent's live transcript as a peer streams
 * it (pwa/src/model/agent-loop.ts, `applyEvent`, over events checked by
 * protocol/agents/transcript-frames.ts): a status of a new pass starts a
 * fresh view, entries are kept in order and bounded, a gap is remembered;
 * events of the wrong shape or size are refused before they are shown
 * (the frames themselves: tests/protocol/transcript-frames.test.ts).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkTranscriptEvent, TRANSCRIPT_LIMITS, type TranscriptEvent } from "#protocol/agents";
import { applyEvent, type LoopView, MAX_ENTRIES } from "../../pwa/src/model/agent-loop.ts";

type Status = Extract<TranscriptEvent, { type: "status" }>;
type Entry = Extract<TranscriptEvent, { type: "entry" }>;
const status = (startedAt: number, step = "thinking"): Status => ({
  type: "status",
  startedAt,
  step,
  turn: 2,
  task: "abcdefgh12",
});
const entry = (n: number, content = `entry ${n}`): Entry => ({
  type: "entry",
  n,
  role: n % 2 ? "assistant" : "user",
  content,
  at: 1_800_000_000_000 + n,
});
const apply = (events: TranscriptEvent[], view?: LoopView) => events.reduce(applyEvent, view);

describe("an agent's live transcript in the dashboard", () => {
  it("keeps a pass's status and entries in order, with each call's cost", () => {
    const answer: Entry = {
      ...entry(1, '{"tool":"list_files"}'),
      turn: 1,
      usage: { inputTokens: 40, outputTokens: 6, costMicroUsd: 52, model: "m", provider: "local" },
    };
    const view = apply([status(1), entry(0), answer, { ...status(1, "editing"), job: "run1234567" }])!;
    assert.equal(view.step, "editing");
    assert.equal(view.job, "run1234567");
    assert.equal(view.task, "abcdefgh12");
    assert.deepEqual(view.transcript.map((e) => e.n), [0, 1]);
    assert.equal(view.transcript[1].usage?.costMicroUsd, 52);
  });

  it("starts afresh on a new pass, and ignores entries before any status", () => {
    assert.equal(apply([entry(0)]), undefined);
    const view = apply([status(1), entry(0), entry(1), status(2), entry(0)])!;
    assert.equal(view.startedAt, 2);
    assert.deepEqual(view.transcript.map((e) => e.content), ["entry 0"]);
  });

  it("remembers what the peer left out, and keeps only the newest entries", () => {
    const view = apply([
      status(1),
      { type: "gap", from: 0, to: 10, chars: 5000 },
      ...Array.from({ length: MAX_ENTRIES + 50 }, (_, i) => entry(10 + i)),
    ])!;
    assert.equal(view.leftChars, 5000);
    assert.equal(view.transcript.length, MAX_ENTRIES);
    assert.equal(view.transcript[0].n, 60);
  });

  it("refuses events of the wrong shape or size before they are shown", () => {
    assert.throws(() => checkTranscriptEvent({ type: "entry", n: 0, role: "root", content: "", at: 0 }), {
      code: "sync/protocol",
    });
    assert.throws(() => checkTranscriptEvent({ ...entry(0), content: "x".repeat(TRANSCRIPT_LIMITS.entryChars + 1) }), {
      code: "sync/protocol",
    });
    assert.throws(() => checkTranscriptEvent({ type: "script", src: "x" }), { code: "sync/protocol" });
    assert.throws(() => checkTranscriptEvent({ ...status(1), extra: true }), { code: "sync/protocol" });
    assert.deepEqual(checkTranscriptEvent(entry(3)), entry(3));
  });
});
