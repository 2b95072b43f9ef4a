/**
 * `/weft/transcript/1` between real libp2p nodes (peer/agents/
 * transcript-serve.ts and transcript-follow.ts): a member follows a
 * transcript as its events are produced; a non-member and a member of
 * another space are refused at the opening before the agent is looked up
 * (and a follower never sends them its request); malformed and oversized
 * openings are refused; an agent the node does not run is named as such;
 * past the concurrency limit an asker is told to retry; a member revoked
 * mid-stream is cut off. The events come from the source the daemon plugs
 * in (`TranscriptSource`); here a producer the test drives.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as cborg from "cborg";
import type { Stream } from "@libp2p/interface";
import {
  encodeTranscriptRequest,
  MAX_TRANSCRIPT_FRAME_BYTES,
  readTranscriptAnswer,
  TRANSCRIPT_PROTOCOL,
  type TranscriptEvent,
} from "#protocol/agents";
import { peerIdFromDid } from "#protocol/node";
import type { Space } from "#protocol/space";
import { lengthPrefixed } from "#protocol/sync";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";
import { openTranscript } from "../../peer/agents/transcript-follow.ts";
import { serveTranscripts, type TranscriptServer, type TranscriptSource } from "../../peer/agents/transcript-serve.ts";
import { FrameReader, sendFrame } from "../../peer/agents/transcript-stream.ts";
import { generateSeed } from "#protocol/identity";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";

/** A transcript the test writes to: every follower gets what was said so far, then each new event. */
class Producer {
  readonly said: TranscriptEvent[] = [];
  readonly #wakes = new Set<() => void>();
  say(event: TranscriptEvent): void {
    this.said.push(event);
    for (const w of [...this.#wakes]) w();
  }
  async *follow(signal: AbortSignal): AsyncGenerator<TranscriptEvent> {
    let next = 0;
    while (!signal.aborted) {
      while (next < this.said.length) yield this.said[next++];
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#wakes.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.#wakes.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }
}

const entry = (n: number): TranscriptEvent => ({ type: "entry", n, role: "user", content: `entry ${n}`, at: n });

/** Open a raw transcript stream from `from` to `to` and send `bytes` as its opening; the server's answer code. */
async function answerTo(from: TestNode, to: TestNode, bytes: Uint8Array): Promise<string | undefined> {
  const stream: Stream = await from.node.libp2p!.dialProtocol(peerIdFromDid(to.node.did), TRANSCRIPT_PROTOCOL);
  const reader = new FrameReader(stream, MAX_TRANSCRIPT_FRAME_BYTES, MAX_TRANSCRIPT_FRAME_BYTES);
  await sendFrame(stream, bytes);
  const answer = await reader.next(10_000);
  stream.abort(new Error("done"));
  try {
    readTranscriptAnswer(answer!);
    return undefined;
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe("/weft/transcript/1 between nodes", () => {
  let server: TestNode, member: TestNode, stranger: TestNode, other: TestNode;
  let space: Space;
  let serving: TranscriptServer;
  const agent = nativeSigner(generateSeed()).did;
  const producer = new Producer();
  const asked: { space: string; agent: string; from?: number; follow: boolean }[] = [];
  const source: TranscriptSource = (s, a, options) => {
    asked.push({
      space: s,
      agent: a,
      ...(options.from !== undefined ? { from: options.from } : {}),
      follow: options.follow,
    });
    return Promise.resolve(s === space.id && a === agent ? producer.follow(options.signal) : undefined);
  };

  before(async () => {
    [server, member, stranger, other] = await Promise.all([libp2pNode(), libp2pNode(), libp2pNode(), libp2pNode()]);
    space = await server.node.createSpace("agents");
    const elsewhere = await server.node.createSpace("elsewhere");
    await mesh([server, member, stranger, other]);
    await member.node.join(await server.node.invite(space.id, { audience: member.node.did }), {
      signal: AbortSignal.timeout(20_000),
    });
    await other.node.join(await server.node.invite(elsewhere.id, { audience: other.node.did }), {
      signal: AbortSignal.timeout(20_000),
    });
    await eventually(() => server.node.provedSpace(member.node.did, space.id), 20_000, "the member proved the space");
    await eventually(() => member.node.provedSpace(server.node.did, space.id), 20_000, "the server proved the space");
    serving = await serveTranscripts(server.node, { source, maxConcurrent: 2 });
  });
  after(async () => {
    await serving?.stop();
    await Promise.all([server, member, stranger, other].map((x) => x?.node.stop()));
  });

  it("a member follows the transcript as it is produced", async () => {
    producer.say({ type: "status", startedAt: 1, step: "thinking", turn: 1, task: "abcdefgh12" });
    producer.say(entry(0));
    const stop = new AbortController();
    const events = await openTranscript(
      member.node,
      server.node.did,
      { space: space.id, agent, follow: true, from: 0 },
      stop.signal,
    );
    assert.deepEqual(asked.at(-1), { space: space.id, agent, from: 0, follow: true });
    const got: TranscriptEvent[] = [];
    const reading = (async () => {
      for await (const e of events) got.push(e);
    })();
    await eventually(() => got.length === 2, 10_000, "what was said so far");
    producer.say(entry(1));
    await eventually(() => got.length === 3, 10_000, "the new entry, as it is said");
    assert.deepEqual(got.slice(1), [entry(0), entry(1)]);
    stop.abort();
    await reading;
    await eventually(() => serving.running === 0, 10_000, "the server let go of the stream");
  });

  for (const who of ["stranger", "other"] as const) {
    it(`a ${who === "stranger" ? "non-member" : "member of another space"} is refused before the agent is looked up`, async () => {
      const asker = who === "stranger" ? stranger : other;
      const before = asked.length;
      assert.equal(
        await answerTo(asker, server, encodeTranscriptRequest({ space: space.id, agent, follow: true })),
        "sync/refused",
      );
      assert.equal(asked.length, before, "the source was not asked");
      // A follower sends its request only to a node that proved the space: the asker's own check.
      await assert.rejects(openTranscript(member.node, asker.node.did, { space: space.id, agent }), {
        code: "sync/refused",
      });
    });
  }

  it("refuses malformed and oversized openings, and names an agent it does not run", async () => {
    const before = asked.length;
    assert.equal(await answerTo(member, server, Uint8Array.from([3, 0xff, 0xfe, 0xfd])), "sync/protocol");
    assert.equal(await answerTo(member, server, Uint8Array.from([0xff, 0xff, 0x7f])), "input/too-large");
    assert.equal(
      await answerTo(member, server, lengthPrefixed(cborg.encode({ space: space.id, agent, peer: "me" }))),
      "sync/protocol",
    );
    assert.equal(asked.length, before, "none reached the source");
    const unknown = nativeSigner(generateSeed()).did;
    await assert.rejects(openTranscript(member.node, server.node.did, { space: space.id, agent: unknown }), {
      code: "agent/unknown",
    });
  });

  it("tells an asker past the limit to retry, and cuts off a member revoked mid-stream", async () => {
    const streams = await Promise.all(
      [0, 1].map(() => openTranscript(member.node, server.node.did, { space: space.id, agent, follow: true })),
    );
    // Read until cut off: how each ended.
    const results = streams.map((events) =>
      (async () => {
        for await (const _ of events) { /* the events so far */ }
      })().then(() => "ended", (e) => (e as { code: string }).code)
    );
    await eventually(() => serving.running === 2, 10_000, "two streams served");
    await assert.rejects(openTranscript(member.node, server.node.did, { space: space.id, agent }), {
      code: "transcript/busy",
    });

    const toMember = [...space.authority.delegations].find((d) => d.aud === member.node.did)!;
    await space.revoke(toMember.cid.toString());
    await eventually(
      () => server.node.diagnostics.counter("transcript.cut-off.sync/refused") === 2,
      20_000,
      "both streams cut off",
    );
    assert.deepEqual(await Promise.all(results), ["transcript/unreachable", "transcript/unreachable"]);
    await eventually(() => serving.running === 0, 10_000, "nothing served any more");
  });
});
