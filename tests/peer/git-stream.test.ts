/**
 * How git's output goes onto a `/weft/git/1` stream (peer/repo/git-stream.ts),
 * between two real libp2p nodes: what git writes within one turn of the
 * event loop crosses as one yamux frame (one message at the far end, one
 * window update back) rather than one per pipe read; a write that comes
 * alone goes out at once (git's negotiation waits on it); after a turn that
 * brought little, what git writes over the next few turns is gathered into
 * one send; the end of git's output closes the stream after everything
 * before it.
 */
import { after, before, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import type { Stream } from "@libp2p/interface";
import { peerIdFromDid } from "#protocol/node";
import { dial, eventually, libp2pNode, type TestNode } from "../helpers/nodes.ts";
import { DEFAULT_GIT_LIMITS, pipeToStream, Watchdog } from "../../peer/repo/git-stream.ts";

const PROTOCOL = "/weft-test/git-out/1";
/** The next turn of the event loop. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("git's output onto a stream", () => {
  let a: TestNode, b: TestNode;
  /** The source each stream a opens to b is fed from, as git's stdout would be. */
  let sources: PassThrough[] = [];
  before(async () => {
    [a, b] = [await libp2pNode(), await libp2pNode()];
    await a.node.libp2p!.handle(PROTOCOL, (stream: Stream) => {
      const source = new PassThrough();
      sources.push(source);
      const watchdog = new Watchdog(DEFAULT_GIT_LIMITS, (e) => stream.abort(e));
      stream.addEventListener("close", () => watchdog.stop());
      pipeToStream(source, stream, watchdog, (e) => stream.abort(e));
    });
    await dial(b, a);
  });
  after(async () => {
    await a.node.stop();
    await b.node.stop();
  });

  /** Open a stream from b to a; what arrives is recorded message by message. */
  async function open(): Promise<{ source: PassThrough; messages: Uint8Array[]; ended: Promise<unknown> }> {
    sources = [];
    const stream = await b.node.libp2p!.dialProtocol(peerIdFromDid(a.node.did), PROTOCOL);
    const messages: Uint8Array[] = [];
    stream.addEventListener("message", (e) => messages.push(e.data.subarray()));
    const ended = new Promise((resolve) => stream.addEventListener("remoteCloseWrite", resolve));
    stream.send(new Uint8Array([1])); // the handler runs once the stream carries something
    const source = await eventually(() => sources[0], 10_000, "the serving side's stream");
    return { source, messages, ended };
  }

  it("sends what git writes within one turn as one message, intact and in order", async () => {
    const { source, messages, ended } = await open();
    const writes = Array.from({ length: 40 }, () => randomBytes(4096));
    for (const w of writes) source.write(w);
    source.end();
    await ended;
    assert.equal(messages.length, 1, `40 writes in one turn crossed as ${messages.length} messages`);
    assert.ok(Buffer.concat(messages).equals(Buffer.concat(writes)));
  });

  it("sends a write that comes alone at once, without waiting for more or for the end", async () => {
    const { source, messages } = await open();
    source.write(Buffer.from("0008NAK\n"));
    await eventually(() => messages.length === 1, 10_000, "the lone write at the far end");
    assert.equal(Buffer.from(messages[0]).toString(), "0008NAK\n");
    source.write(Buffer.from("0000"));
    await eventually(() => messages.length === 2, 10_000, "the next write at the far end");
    source.end();
  });

  it("gathers what git writes over the turns after one that brought little into one send", async () => {
    const { source, messages, ended } = await open();
    // The gather's 1 ms runs on mocked timers: it ends when the test says, not when a loaded machine's clock
    // does (ten turns can take longer than 1 ms there, and the writes would then cross apart).
    mock.timers.enable({ apis: ["setTimeout"] });
    const writes = Array.from({ length: 10 }, () => randomBytes(4096));
    try {
      source.write(randomBytes(100));
      // The little turn is sent, and the source is left unread to gather.
      for (let i = 0; !source.isPaused(); i++) {
        assert.ok(i < 1000, "the source was never left unread after a turn that brought little");
        await turn();
      }
      for (const w of writes) {
        source.write(w);
        await turn(); // each write in a turn of its own
      }
      mock.timers.tick(1);
    } finally {
      mock.timers.reset();
    }
    source.end();
    await ended;
    assert.ok(messages.length - 1 <= writes.length / 2, `10 writes in 10 turns crossed as ${messages.length - 1}`);
    assert.ok(Buffer.concat(messages.slice(1)).equals(Buffer.concat(writes)));
  });
});
