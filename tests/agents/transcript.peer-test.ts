/**
 * An agent's live transcript followed from another peer, on real peer
 * processes. Agent `reader` runs on peer b, driven by a recorded model (a
 * scripted OpenAI-compatible server replaying
 * tests/fixtures/agent-loop/read-big-then-think.json — a recording, not a
 * live model). Peer a's API follows its transcript by DID
 * (`GET …/agents/<did>/transcript?follow=true`), which a reads from b over
 * `/weft/transcript/1`: the first turn shows on a while the model's second
 * answer is still held back (so it came as it happened, not at the end),
 * with the call's tokens and cost; once released, the next turns follow.
 * Each 48 KB file read is cut to 16000 characters with a count of the rest.
 * Once the transcript holds ~900 KB, a fresh read sends its newest ~256 KiB
 * behind a `gap` saying what was left out. A libp2p node that is no member
 * of the space is refused by b at the stream's opening and learns nothing.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { multiaddr } from "@multiformats/multiaddr";
import {
  decodeTranscriptEvent,
  encodeTranscriptRequest,
  MAX_TRANSCRIPT_FRAME_BYTES,
  readTranscriptAnswer,
  TRANSCRIPT_LIMITS,
  TRANSCRIPT_PROTOCOL,
  type TranscriptEvent,
} from "#protocol/agents";
import { peerIdFromDid } from "#protocol/node";
import { eventually, libp2pNode, type TestNode } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, printOutputIfFailed, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { startRecordedModel } from "../helpers/recorded-model-server.ts";
import { llmToml, LOOP_FIXTURES, peerWith, seedDemoRepo, userGit, weftJson } from "../helpers/agent-loop-rig.ts";
import { FrameReader, sendFrame } from "../../peer/agents/transcript-stream.ts";

const enc = encodeURIComponent;
/** The file the model reads, over and over: 48 KB, more than one entry carries. */
const BIG = "0123456789abcdef".repeat(3 * 1024);
const READS = 18;
/** Entries once every recorded turn is in: the system prompt, the context, then an answer and a result per turn. */
const ENTRIES = 2 + 2 * (1 + READS);

type Entry = Extract<TranscriptEvent, { type: "entry" }>;

/** Follow `path` on `p`'s API in the background, collecting every event and the bytes they took. */
function collect(p: PeerProcess, path: string) {
  const events: TranscriptEvent[] = [];
  const stop = new AbortController();
  let failure: unknown;
  const done = (async () => {
    for await (const e of (await p.api()).lines<TranscriptEvent>(path, stop.signal)) events.push(e);
  })().catch((e) => {
    if (!stop.signal.aborted) failure = e;
  });
  const entries = () => {
    if (failure) throw failure;
    return events.filter((e): e is Entry => e.type === "entry");
  };
  return { events, entries, done, stop: () => stop.abort() };
}

describe("an agent's live transcript, followed from another peer", { timeout: 900_000 }, () => {
  let a: PeerProcess, b: PeerProcess;
  let stranger: TestNode;
  let space: string;
  let work: string;
  let agent: string;
  let task: string;
  let model: Awaited<ReturnType<typeof startRecordedModel>>;
  let live: ReturnType<typeof collect>;
  const transcriptPath = (query = "") =>
    `/v1/spaces/${enc(space)}/agents/${enc(agent)}/transcript${query ? `?${query}` : ""}`;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "weft-transcript-"));
    model = await startRecordedModel(join(LOOP_FIXTURES, "read-big-then-think.json"));
    b = await peerWith(llmToml(model.url, "recorded-reader") + "\n[agents]\nlease_seconds = 300\n");
    a = await startPeer();
    space = JSON.parse(await weft(b, "space", "list", "--json")).spaces[0].id as string;
    await joinPeer(b, a, space);
    await seedDemoRepo(work, b, space);
    const clone = join(work, "demo");
    await writeFile(join(clone, "big.txt"), BIG);
    await userGit(work, b, clone, "add", "big.txt");
    await userGit(work, b, clone, "commit", "-q", "-m", "a big file");
    await userGit(work, b, clone, "push", "-q", "origin", "HEAD:refs/heads/main");
    agent = (await weftJson<{ did: string }>(
      b,
      ...["agent", "add", "reader", "--labels", "bug", "--budget", "50usd", "--runners", "container", "--run"],
      ...["--space", space],
    )).did;
    // a knows the agent once its delegations reached it.
    await eventually(
      async () =>
        (await (await a.api()).get<{ delegations: unknown[] }>(`/v1/spaces/${enc(space)}/agents/${enc(agent)}`))
          .delegations.length > 0,
      120_000,
      "the agent's delegations on a",
    );
  });
  afterEach((t) => printOutputIfFailed(t, { a, b }));
  after(async () => {
    live?.stop();
    model?.stop();
    await stranger?.node.stop();
    await Promise.all([a, b].map((p) => p && stopPeer(p)));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a follows b's agent as it works: each turn as it happens, with its cost", async () => {
    // Following before the agent has a task: the stream waits for its first pass.
    live = collect(a, transcriptPath("follow=true"));
    task = (await weftJson<{ id: string }>(
      b,
      ...["task", "add", "look at the big file", "--label", "bug", "--label", "repo:demo", "--space", space],
    )).id;
    // The first turn reaches a while the model's second answer is held back on b.
    const first = (await eventually(
      () => live.entries().find((e) => e.n === 3),
      240_000,
      "the first tool result on a",
    ))!;
    await eventually(async () => await model.requests() === 2, 60_000, "the second call out, its answer held");
    assert.ok(!live.entries().some((e) => e.n > 3), "nothing past the held turn");
    assert.match(first.content, /big\.txt/, "the file list, as the tool answered it");
    const [system, context, answer] = [0, 1, 2].map((n) => live.entries().find((e) => e.n === n)!);
    assert.equal(system.role, "system");
    assert.equal(context.role, "user");
    assert.match(context.content, /look at the big file/);
    assert.equal(answer.role, "assistant");
    assert.equal(answer.content, '{"tool":"list_files"}');
    assert.equal(answer.turn, 1);
    assert.equal(answer.usage?.model, "recorded-reader");
    assert.ok(answer.usage!.inputTokens > 0 && answer.usage!.costMicroUsd > 0, "the call's tokens and cost");
    // The step and turn of the held call show too.
    const status = (await eventually(
      () =>
        live.events.findLast((e): e is Extract<TranscriptEvent, { type: "status" }> =>
          e.type === "status" && e.turn === 2
        ),
      60_000,
      "the status of the held call on a",
    ))!;
    assert.equal(status.task, task);
    assert.equal(status.step, "thinking");
    assert.ok(!live.entries().some((e) => e.n > 3), "still nothing past the held turn");

    await model.release();
    const read = (await eventually(() => live.entries().find((e) => e.n === 5), 120_000, "the first read on a"))!;
    assert.equal(read.role, "user");
    assert.equal(read.content, BIG.slice(0, TRANSCRIPT_LIMITS.entryChars), "the read, cut to what an entry carries");
    assert.equal(read.cut, BIG.length - TRANSCRIPT_LIMITS.entryChars, "and how much was left out");

    // Every turn follows, in order, none skipped: a follower from the start is paced, never cut.
    await eventually(() => live.entries().length >= ENTRIES, 300_000, `all ${ENTRIES} entries on a`);
    assert.deepEqual(live.entries().map((e) => e.n), [...Array(ENTRIES).keys()]);
    assert.ok(!live.events.some((e) => e.type === "gap" || e.type === "end"));
    // b's own view of the loop says the same.
    const onB = await (await b.api()).get<{ loop: { turn: number; transcript: unknown[] } }>(
      `/v1/spaces/${enc(space)}/agents/reader`,
    );
    assert.equal(onB.loop.turn, READS + 2, "b's loop is in its next call, held");
  });

  it("a transcript larger than the bound reaches a cut, behind a gap that says what was left out", async () => {
    const res = await (await a.api()).raw("GET", transcriptPath());
    const text = await res.text();
    const events = text.trim().split("\n").map((l) => JSON.parse(l) as TranscriptEvent);
    const whole = BIG.length * READS;
    assert.ok(text.length < TRANSCRIPT_LIMITS.backlogBytes + 64 * 1024, `sent ${text.length} bytes, not ${whole}`);
    assert.equal(events[0].type, "status");
    const gap = events[1] as Extract<TranscriptEvent, { type: "gap" }>;
    assert.equal(gap.type, "gap", "the oldest entries are left out, and it says so first");
    assert.equal(gap.from, 0);
    assert.ok(gap.to > 2 && gap.to < ENTRIES, `entries 0..${gap.to - 1} left out`);
    assert.ok(gap.chars > 0);
    const entries = events.filter((e): e is Entry => e.type === "entry");
    assert.deepEqual(entries.map((e) => e.n), [...Array(ENTRIES - gap.to).keys()].map((i) => gap.to + i));
    const reads = entries.filter((e) => e.role === "user" && e.content.startsWith(BIG.slice(0, 64)));
    assert.ok(reads.length > 10, `${reads.length} reads shown`);
    for (const e of reads) {
      assert.equal(e.cut, BIG.length - TRANSCRIPT_LIMITS.entryChars, "each cut, saying by how much");
    }
    assert.deepEqual(events.at(-1), { type: "end" }, "the read ends without following");

    // The same, as `weft agent transcript` prints it on a.
    const printed = await weft(a, "agent", "transcript", agent, "--space", space);
    assert.match(printed, new RegExp(`-- entries 0 to ${gap.to - 1} \\(${gap.chars} characters\\) left out`));
    assert.match(printed, new RegExp(`… ${BIG.length - TRANSCRIPT_LIMITS.entryChars} more characters not shown`));
    assert.match(printed, /model \(turn 19, \d+ tokens, \$[0-9.]+\):\n\{"tool":"read_file","path":"big\.txt"\}/);
  });

  it("a peer that is no member of the space is refused at the stream's opening", async () => {
    stranger = await libp2pNode();
    const bDid = await weft(b, "id");
    await stranger.node.libp2p!.dial(multiaddr(b.address));
    const refusals = async () =>
      (await (await b.api()).get<{ refusals: { what: string; code: string; from: string }[] }>(
        `/v1/spaces/${enc(space)}/diagnostics`,
      )).refusals.filter((r) => r.what === `transcript ${agent}`);
    const before = (await refusals()).length;
    const stream = await stranger.node.libp2p!.dialProtocol(peerIdFromDid(bDid), TRANSCRIPT_PROTOCOL);
    const reader = new FrameReader(stream, MAX_TRANSCRIPT_FRAME_BYTES, MAX_TRANSCRIPT_FRAME_BYTES);
    await sendFrame(stream, encodeTranscriptRequest({ space, agent, follow: true }));
    const answer = await reader.next(30_000);
    assert.ok(answer, "b answered");
    assert.throws(() => readTranscriptAnswer(answer), { code: "sync/refused" });
    assert.equal(await reader.next(30_000), undefined, "and sent nothing after it");
    const now = await refusals();
    assert.equal(now.length, before + 1, "b recorded the refusal");
    assert.equal(now.at(-1)!.from, stranger.node.did);
    // Nothing of the transcript was decoded from the refusal: it is an answer, not an event.
    assert.throws(() => decodeTranscriptEvent(answer), { code: "sync/protocol" });
  });
});
