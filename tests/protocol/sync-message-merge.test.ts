/**
 * Merging two automerge sync messages bound for one peer (the relay's
 * stock clients get one message where automerge-repo made two): a peer
 * given the merged message ends with the same document as a peer given
 * both, answers once, and syncs to the same end; messages that cannot be
 * merged (a peer's first, with its capabilities; a whole document; another
 * version; anything else) are left to be sent as they are.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as A from "@automerge/automerge";
import { mergeSyncMessages } from "../../protocol/sync/sync-message-merge.ts";

type Doc = Record<string, number>;

/** Sync two documents to a standstill; returns the messages `from` sent. */
function syncAll(docs: { a: A.Doc<Doc>; b: A.Doc<Doc> }, states: { a: A.SyncState; b: A.SyncState }): void {
  for (let rounds = 0; rounds < 20; rounds++) {
    const [sa, ma] = A.generateSyncMessage(docs.a, states.a);
    states.a = sa;
    if (ma) [docs.b, states.b] = A.receiveSyncMessage(docs.b, states.b, ma);
    const [sb, mb] = A.generateSyncMessage(docs.b, states.b);
    states.b = sb;
    if (mb) [docs.a, states.a] = A.receiveSyncMessage(docs.a, states.a, mb);
    if (!ma && !mb) return;
  }
  throw new Error("no standstill after 20 rounds");
}

/** A server and a client in sync, having exchanged their first messages (so later ones carry no capabilities). */
function synced() {
  let server = A.from<Doc>({ start: 0 });
  const docs = { a: server, b: A.init<Doc>() };
  const states = { a: A.initSyncState(), b: A.initSyncState() };
  syncAll(docs, states);
  server = docs.a;
  return { server, client: docs.b, serverState: states.a, clientState: states.b };
}

/** The server changes `key` (as if another client's write arrived). */
function write(doc: A.Doc<Doc>, key: string, value: number): A.Doc<Doc> {
  return A.change(doc, (d) => void (d[key] = value));
}

/**
 * A copy of the client takes `first` then `second`, another `merged`: both end with the same document.
 * Returns the one that took the merged message.
 */
function sameEnd(
  client: A.Doc<Doc>,
  state: A.SyncState,
  first: Uint8Array,
  second: Uint8Array,
  merged: Uint8Array,
): { doc: A.Doc<Doc>; state: A.SyncState } {
  let [both, bothState] = A.receiveSyncMessage(A.clone(client), structuredClone(state), first);
  [both, bothState] = A.receiveSyncMessage(both, bothState, second);
  const [one, oneState] = A.receiveSyncMessage(A.clone(client), structuredClone(state), merged);
  assert.deepEqual(A.getHeads(one), A.getHeads(both));
  assert.deepEqual({ ...one }, { ...both });
  assert.deepEqual(oneState.sharedHeads, bothState.sharedHeads);
  assert.deepEqual(oneState.theirHeads, bothState.theirHeads);
  return { doc: one, state: oneState };
}

describe("merging sync messages", () => {
  it("gives a peer the changes of both messages and the later one's heads: one answer, the same end", () => {
    let { server, client, serverState, clientState } = synced();
    server = write(server, "x1", 1);
    let first: Uint8Array | null;
    [serverState, first] = A.generateSyncMessage(server, serverState);
    server = write(write(server, "x2", 2), "x3", 3);
    let second: Uint8Array | null;
    [serverState, second] = A.generateSyncMessage(server, serverState);
    assert.ok(first && second, "the server has two messages for the client");
    // What the second carries is only what the first did not (automerge may bundle the two writes in one chunk).
    const chunks = (m: Uint8Array) => A.decodeSyncMessage(m).changes.length;
    assert.ok(chunks(first) > 0 && chunks(second) > 0);

    const merged = mergeSyncMessages(first, second);
    assert.ok(merged, "two change lists after the first exchange merge");
    const decoded = A.decodeSyncMessage(merged);
    assert.equal(decoded.changes.length, chunks(first) + chunks(second));
    assert.deepEqual(decoded.heads, A.decodeSyncMessage(second).heads);
    assert.deepEqual(decoded.have, A.decodeSyncMessage(second).have);
    assert.deepEqual(decoded.need, A.decodeSyncMessage(second).need);

    const one = sameEnd(client, clientState, first, second, merged);
    assert.deepEqual({ ...one.doc }, { start: 0, x1: 1, x2: 2, x3: 3 });

    // The client given the merged message answers it, and the two sync to a standstill, equal.
    const docs = { a: server, b: one.doc };
    const states = { a: serverState, b: one.state };
    syncAll(docs, states);
    assert.deepEqual(A.getHeads(docs.a), A.getHeads(docs.b));
  });

  it("keeps syncing right when every pair of messages to a peer is merged, with writes on both sides", () => {
    let { server, client, serverState, clientState } = synced();
    let held: Uint8Array | undefined;
    let merges = 0;
    for (let round = 0; round < 30; round++) {
      server = write(server, `s${round}`, round);
      if (round % 3 === 0) client = write(client, `c${round}`, round);
      const [s, m] = A.generateSyncMessage(server, serverState);
      serverState = s;
      if (m) {
        const merged = held ? mergeSyncMessages(held, m) : undefined;
        if (held && merged === undefined) {
          [client, clientState] = A.receiveSyncMessage(client, clientState, held);
          held = m;
        } else {
          if (merged) merges++;
          held = merged ?? m;
        }
      }
      // Every other round the held message goes out, and the client answers.
      if (round % 2 === 1 && held) {
        [client, clientState] = A.receiveSyncMessage(client, clientState, held);
        held = undefined;
        const [cs, answer] = A.generateSyncMessage(client, clientState);
        clientState = cs;
        if (answer) [server, serverState] = A.receiveSyncMessage(server, serverState, answer);
      }
    }
    if (held) [client, clientState] = A.receiveSyncMessage(client, clientState, held);
    const docs = { a: server, b: client };
    const states = { a: serverState, b: clientState };
    syncAll(docs, states);
    assert.deepEqual(A.getHeads(docs.a), A.getHeads(docs.b));
    assert.deepEqual({ ...docs.a }, { ...docs.b });
    assert.equal(Object.keys(docs.a).length, 1 + 30 + 10);
    assert.ok(merges >= 10, `messages were merged (${merges} times)`);
  });

  it("returns the second message alone when the first carried no change", () => {
    let { server, client, serverState, clientState } = synced();
    // The client writes; the server's answer acknowledges its heads and carries no change.
    client = write(client, "c", 1);
    const [, fromClient] = A.generateSyncMessage(client, clientState);
    [server, serverState] = A.receiveSyncMessage(server, serverState, fromClient!);
    let empty: Uint8Array | null;
    [serverState, empty] = A.generateSyncMessage(server, serverState);
    assert.ok(empty);
    assert.equal(A.decodeSyncMessage(empty).changes.length, 0);
    server = write(server, "x", 1);
    const [, withChange] = A.generateSyncMessage(server, serverState);
    assert.ok(withChange);
    assert.equal(mergeSyncMessages(empty, withChange), withChange);
  });

  it("merges a whole document sent to a peer that had nothing with what follows it", () => {
    let server = A.from<Doc>({ start: 0 });
    const client = A.init<Doc>();
    let serverState = A.initSyncState(), clientState = A.initSyncState();
    let hello: Uint8Array | null;
    [clientState, hello] = A.generateSyncMessage(client, clientState);
    [server, serverState] = A.receiveSyncMessage(server, serverState, hello!);
    let whole: Uint8Array | null;
    [serverState, whole] = A.generateSyncMessage(server, serverState);
    assert.ok(whole);
    server = write(server, "after", 1);
    let next: Uint8Array | null;
    [serverState, next] = A.generateSyncMessage(server, serverState);
    assert.ok(next);
    const merged = mergeSyncMessages(whole, next);
    assert.ok(merged, "the whole document and the change after it go as one");
    const one = sameEnd(client, clientState, whole, next, merged);
    assert.deepEqual({ ...one.doc }, { start: 0, after: 1 });
  });

  it("leaves as they are messages with different trailers (a first message), other versions and garbage", () => {
    const server = A.from<Doc>({ start: 0 });
    // A peer's first message is V1 and carries its capabilities after the changes.
    const [, opening] = A.generateSyncMessage(server, A.initSyncState());
    assert.ok(opening);
    assert.equal(opening[0], 0x42);
    const { server: later, serverState } = synced();
    const [, ordinary] = A.generateSyncMessage(write(later, "y", 1), serverState);
    assert.ok(ordinary);
    assert.equal(mergeSyncMessages(opening, ordinary), undefined, "a first message is sent as it is");
    assert.equal(mergeSyncMessages(ordinary, opening), undefined);
    // The same message with other bytes after its changes (other flags) is not merged either.
    const flagged = Uint8Array.from([...ordinary.subarray(0, ordinary.length - 1), ordinary[ordinary.length - 1] ^ 1]);
    assert.equal(mergeSyncMessages(ordinary, flagged), undefined);

    // Versions that differ, and what is not a sync message at all, or is cut short.
    const v1 = Uint8Array.from([0x42, 0, 0, 0, 0]);
    const v2 = Uint8Array.from([0x43, 0, 0, 0, 0]);
    assert.equal(mergeSyncMessages(v1, v2), undefined);
    assert.equal(mergeSyncMessages(Uint8Array.from([1, 2, 3]), ordinary), undefined);
    assert.equal(mergeSyncMessages(ordinary.subarray(0, 40), ordinary), undefined);
    assert.equal(mergeSyncMessages(new Uint8Array(0), ordinary), undefined);
    const huge = Uint8Array.from([0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert.equal(mergeSyncMessages(huge, ordinary), undefined);
  });
});
