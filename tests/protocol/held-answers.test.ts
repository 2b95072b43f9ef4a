/**
 * What the relay sends a writing client in the moments after its write is
 * gathered into one sync message (protocol/sync/held-answers.ts): messages
 * go out at once to a client that did not write, are held and merged for
 * one that did, keep their order with other kinds of message and with
 * messages that cannot be merged, and nothing held is sent to a client
 * that is gone.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as A from "@automerge/automerge";
import { HeldAnswers } from "../../protocol/sync/held-answers.ts";

type Doc = Record<string, number>;
type Sent = { peer: string; data: Uint8Array };

/** A relay's document and a client's, in sync; `next()` is the relay's next sync message after a write of its own. */
function pair() {
  let relay = A.from<Doc>({ start: 0 });
  let client = A.init<Doc>();
  let rs = A.initSyncState(), cs = A.initSyncState();
  for (let i = 0; i < 10; i++) {
    const [a, m1] = A.generateSyncMessage(relay, rs);
    rs = a;
    if (m1) [client, cs] = A.receiveSyncMessage(client, cs, m1);
    const [b, m2] = A.generateSyncMessage(client, cs);
    cs = b;
    if (m2) [relay, rs] = A.receiveSyncMessage(relay, rs, m2);
    if (!m1 && !m2) break;
  }
  let n = 0;
  const write = (): Uint8Array => {
    client = A.change(client, (d) => void (d[`c${n++}`] = 1));
    const [s, m] = A.generateSyncMessage(client, cs);
    cs = s;
    return m!;
  };
  const next = (): Uint8Array => {
    relay = A.change(relay, (d) => void (d[`r${n++}`] = 1));
    const [s, m] = A.generateSyncMessage(relay, rs);
    rs = s;
    return m!;
  };
  return { write, next };
}

/** A holder whose deliveries are recorded; `delivered(n)` resolves once n have gone out. */
function holder(holdMs = 20) {
  const sent: Sent[] = [];
  const waiting: Array<{ n: number; resolve: () => void }> = [];
  const answers = new HeldAnswers<Sent>({
    holdMs,
    deliver: (peer, m) => {
      sent.push({ peer, data: m.data });
      for (const w of waiting.filter((w) => sent.length >= w.n)) w.resolve();
    },
  });
  const delivered = (n: number) =>
    new Promise<void>((resolve) => (sent.length >= n ? resolve() : waiting.push({ n, resolve })));
  return { answers, sent, delivered };
}

const changes = (m: Uint8Array) => A.decodeSyncMessage(m).changes.length;

describe("held answers", () => {
  it("send at once to a client that did not write", () => {
    const { answers, sent } = holder();
    const { next } = pair();
    const m = next();
    answers.sendSync("reader", "doc", { peer: "reader", data: m });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].data, m);
  });

  it("gather what follows a client's write into one message, sent when the window closes", async () => {
    const { answers, sent, delivered } = holder();
    const { write, next } = pair();
    answers.received("writer", "doc", write());
    const first = next(), second = next();
    answers.sendSync("writer", "doc", { peer: "writer", data: first });
    answers.sendSync("writer", "doc", { peer: "writer", data: second });
    assert.equal(sent.length, 0, "held while the window is open");
    await delivered(1);
    assert.equal(sent.length, 1);
    assert.equal(changes(sent[0].data), changes(first) + changes(second));
    assert.deepEqual(A.decodeSyncMessage(sent[0].data).heads, A.decodeSyncMessage(second).heads);
    // The window closed: the next message goes out at once.
    answers.sendSync("writer", "doc", { peer: "writer", data: next() });
    assert.equal(sent.length, 2);
  });

  it("open no window for a message without changes, nor for other documents and clients", () => {
    const { answers, sent } = holder();
    const { write, next } = pair();
    const ack = A.encodeSyncMessage({ ...A.decodeSyncMessage(write()), changes: [] });
    answers.received("reader", "doc", ack);
    answers.received("writer", "doc", write());
    answers.sendSync("reader", "doc", { peer: "reader", data: next() });
    answers.sendSync("writer", "other-doc", { peer: "writer", data: next() });
    assert.equal(sent.length, 2);
    answers.clear();
  });

  it("send what is held before another kind of message, and before a message it cannot merge with", () => {
    const { answers, sent } = holder(60_000);
    const { write, next } = pair();
    answers.received("writer", "doc", write());
    const held = next();
    answers.sendSync("writer", "doc", { peer: "writer", data: held });
    answers.flush("writer", "doc");
    assert.deepEqual(sent.map((s) => s.data), [held], "held goes first");

    answers.received("writer", "doc", write());
    const before = next();
    answers.sendSync("writer", "doc", { peer: "writer", data: before });
    const unmergeable = Uint8Array.from([0x42, 0, 0, 0, 0, 1, 2]); // another version, another trailer
    answers.sendSync("writer", "doc", { peer: "writer", data: unmergeable });
    assert.deepEqual(sent.map((s) => s.data), [held, before], "what was held went out first");
    answers.flush("writer");
    assert.deepEqual(sent.map((s) => s.data), [held, before, unmergeable]);
  });

  it("send nothing held to a client that is gone, or once stopped", async () => {
    const { answers, sent } = holder(5);
    const { write, next } = pair();
    answers.received("gone", "doc", write());
    answers.sendSync("gone", "doc", { peer: "gone", data: next() });
    answers.forget("gone");
    answers.received("other", "doc", write());
    answers.sendSync("other", "doc", { peer: "other", data: next() });
    answers.clear();
    // Past both windows (a timer that is not cleared would have fired by a later one).
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(sent.length, 0);
  });
});
