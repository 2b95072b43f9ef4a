/**
 * A member cannot take another node's place by naming its automerge peer id.
 *
 * Sessions (and the share policy's index) are keyed by the peer id a remote
 * announces in `hello`. If any peer id were taken, a member of the space
 * could announce a fellow member's, prove its own membership, and the node
 * would close the fellow's session in favour of the impostor's: that member
 * is cut off. A node's peer id is its DID or its libp2p PeerId, so a hello
 * naming any other is refused before anything is proved.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { lpStream } from "@libp2p/utils";
import { decodeFrame, encodeFrame, SYNC_PROTOCOL } from "../../protocol/sync/frames.ts";
import type { Space } from "../../protocol/space/space.ts";
import { dial, eventually, libp2pNode, type TestNode } from "../helpers/nodes.ts";

describe("a hello's peer id is bound to its DID", () => {
  let a: TestNode;
  let b: TestNode;
  let m: TestNode;
  let space: Space;
  let onB: Space;

  before(async () => {
    [a, b, m] = await Promise.all([libp2pNode(), libp2pNode(), libp2pNode()]);
    space = await a.node.createSpace("team");
    await dial(b, a);
    onB = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
      signal: AbortSignal.timeout(15_000),
    });
    await dial(m, a);
    await m.node.join(await a.node.invite(space.id, { audience: m.node.did }), { signal: AbortSignal.timeout(15_000) });
    await eventually(() => a.node.sessionTo(b.node.did)?.shared.has(space.id), 10_000, "b's session shares the space");
  });
  after(async () => {
    await Promise.all([a, b, m].map((n) => n?.node.stop()));
  });

  it("a member naming another member's peer id is refused, and that member stays connected", async () => {
    const bSession = a.node.sessionTo(b.node.did);
    const victimPeer = bSession!.remotePeer!;
    assert.notEqual(victimPeer, m.node.did);

    // The impostor: m's own connection and m's own valid proofs, but b's peer id.
    const stream = await m.node.libp2p!.dialProtocol(a.node.libp2p!.peerId, SYNC_PROTOCOL, {
      signal: AbortSignal.timeout(10_000),
    });
    const lp = lpStream(stream);
    const read = async () => decodeFrame((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray());
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    await lp.write(encodeFrame({ type: "hello", version: 1, nonce, did: m.node.did, peer: victimPeer }));
    let hello = await read();
    while (hello.type !== "hello") hello = await read();
    const proofs = await m.node.authority.prove((hello as { nonce: Uint8Array }).nonce, a.node.did);
    assert.ok(proofs.length > 0, "m can prove the space");
    // The node closes the stream on the bad hello; a write after that may fail, which is the point.
    await lp.write(encodeFrame({ type: "auth", proofs: proofs.map((p) => p.proof) })).catch(() => {});
    const answered = await (async () => {
      try {
        for (;;) if ((await read()).type === "authz") return true;
      } catch {
        return false;
      }
    })();
    assert.equal(answered, false, "the node accepted a hello naming another node's peer id");

    // b's own session was not replaced: it is the same one, and it still carries the space.
    assert.equal(a.node.sessionTo(b.node.did), bSession, "b's session was replaced");
    const t = await space.createTask({ title: "after the impostor" });
    await eventually(() => onB.task(t.id), 10_000, "the task on b");
  });
});
