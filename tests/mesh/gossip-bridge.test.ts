/**
 * Nodes without libp2p (browser tabs, on a WebSocket to a peer) still take
 * part in gossip and fetch blobs: the peer they connect to passes their
 * signed adverts on to its libp2p peers and theirs to them; a blob held two
 * hops away is fetched through the peer and checked against its CID; a
 * non-member's gossip and blob requests get nothing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { createNode, type WeftNode } from "../../protocol/node/node.ts";
import { generateSeed, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { type WebSocketLike, WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import type { Space } from "../../protocol/space/space.ts";
import { cidOf, RAW } from "../../protocol/codec/cid.ts";
import type { ContentStore } from "../../protocol/runner/runner.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { advert } from "../helpers/adverts.ts";
import { dial, eventually, libp2pNode, memoryKeystore, type TestNode } from "../helpers/nodes.ts";

describe("gossip and blobs for nodes without libp2p", () => {
  let a: TestNode;
  let b: TestNode;
  let tab: WeftNode;
  let outsider: WeftNode;
  let outsiderWs: WebSocketNetworkAdapter;
  let wss: WebSocketServer;
  let url: string;
  let spaceA: Space;
  let spaceB: Space;
  let spaceTab: Space;

  before(async () => {
    a = await libp2pNode();
    b = await libp2pNode();
    await dial(a, b);
    spaceA = await a.node.createSpace("bridge");
    spaceB = await b.node.join(await a.node.invite(spaceA.id, { audience: b.node.did }), {
      signal: AbortSignal.timeout(10_000),
    });
    const bWs = b.node.addNetwork((o) => new WebSocketNetworkAdapter(o));
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    wss.on("connection", (socket) => bWs.accept(socket as unknown as WebSocketLike));
    await new Promise((r) => wss.once("listening", r));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    tab = await createNode({ signer: await signerFromSeed(generateSeed()), keystore: memoryKeystore() });
    tab.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 })).connectTo(url);
    spaceTab = await tab.join(await a.node.invite(spaceA.id, { audience: tab.did }), {
      signal: AbortSignal.timeout(10_000),
    });
    outsider = await createNode({ signer: await signerFromSeed(generateSeed()), keystore: memoryKeystore() });
    outsiderWs = outsider.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 }));
    outsiderWs.connectTo(url);
  });

  after(async () => {
    await outsider.stop();
    await tab.stop();
    await b.node.stop();
    await a.node.stop();
    await new Promise((r) => wss.close(r));
  });

  it("a tab's advert reaches a libp2p node through its peer, and the mesh's reach the tab", async () => {
    await eventually(
      async () => {
        await tab.gossip(spaceTab.id)!.advertise(advert({ ephemeral: true, slots: 3 }));
        return a.node.gossip(spaceA.id)!.adverts().some((x) => x.node === tab.did && x.slots === 3);
      },
      10_000,
      "the tab's advert at a",
    );
    await eventually(
      async () => {
        await a.node.gossip(spaceA.id)!.advertise(advert({ gpus: 1 }));
        return tab.gossip(spaceTab.id)!.adverts().some((x) => x.node === a.node.did && x.gpus === 1);
      },
      10_000,
      "a's advert at the tab",
    );
    assert.ok(b.node.gossip(spaceB.id)!.adverts().some((x) => x.node === tab.did));
  });

  it("a tab that connects late learns the live adverts at once, not at each node's next advert", async () => {
    await a.node.gossip(spaceA.id)!.advertise(advert({ slots: 7, ttl: 600 }));
    await eventually(() => b.node.gossip(spaceB.id)!.adverts().some((x) => x.node === a.node.did && x.slots === 7));
    const late = await createNode({ signer: await signerFromSeed(generateSeed()), keystore: memoryKeystore() });
    try {
      late.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 })).connectTo(url);
      const s = await late.join(await a.node.invite(spaceA.id, { audience: late.did }), {
        signal: AbortSignal.timeout(10_000),
      });
      // Nobody advertises again: what the late tab knows, it got when its session was accepted.
      await eventually(
        () => late.gossip(s.id)!.adverts().some((x) => x.node === a.node.did && x.slots === 7),
        10_000,
        "a's advert replayed to the late tab",
      );
    } finally {
      await late.stop();
    }
  });

  it("a blob two hops away is fetched through the peer, and verified", async () => {
    const store = new MemoryContentStore();
    a.node.serveBlobs(store);
    const bytes = new TextEncoder().encode("input file held only by a");
    const cid = await store.put(bytes);
    const got = await tab.fetchBlob(cid, AbortSignal.timeout(10_000));
    assert.deepEqual(got, bytes);
    // Asking for what nobody has answers "none", promptly.
    const missing = cidOf(new TextEncoder().encode("nobody has this"), RAW).toString();
    assert.equal(await tab.fetchBlob(missing, AbortSignal.timeout(10_000)), undefined);
    await assert.rejects(() => tab.fetchBlob("not-a-cid"), /not a blob CID/);
  });

  it("a peer that answers with other bytes is not believed", async () => {
    const liar: ContentStore = {
      get: () => Promise.resolve(new TextEncoder().encode("forged")),
      put: () => Promise.reject(),
    };
    b.node.serveBlobs(liar);
    try {
      const cid = cidOf(new TextEncoder().encode("the real content"), RAW).toString();
      assert.equal(await tab.fetchBlob(cid, AbortSignal.timeout(10_000)), undefined);
    } finally {
      b.node.serveBlobs(new MemoryContentStore());
    }
  });

  it("a non-member connected to the same peer gets no gossip and no blobs", async () => {
    const store = new MemoryContentStore();
    b.node.serveBlobs(store);
    const cid = await store.put(new TextEncoder().encode("members only"));
    // Its own node does not even ask (it shares no space); ask over its session directly.
    assert.equal(await outsider.fetchBlob(cid, AbortSignal.timeout(5000)), undefined);
    const session = await eventually(() => [...outsiderWs.sessions.values()][0], 10_000, "outsider session");
    const declined = b.node.diagnostics.counter("sync.blobs.declined");
    assert.equal(await session.want(cid, AbortSignal.timeout(5000)), undefined);
    assert.equal(b.node.diagnostics.counter("sync.blobs.declined"), declined + 1);
    // Gossip it sends for the space is refused by the peer, and never reaches a member's view.
    assert.equal(outsider.gossip(spaceA.id), undefined);
    const refused = b.node.diagnostics.counter("refused.sync");
    session.sendGossip(spaceA.id, "capacity", new Uint8Array([1, 2, 3]));
    assert.equal(b.node.diagnostics.counter("refused.sync"), refused, "not sent: the session knows it is no member");
  });
});
