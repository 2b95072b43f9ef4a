/**
 * Nothing of a space reaches a stranger. Real Weft nodes on loopback libp2p
 * share a space; next to them a stranger runs stock software with no Weft
 * code — a js-libp2p node with gossipsub, a helia node with bitswap — dials
 * them and asks for everything it can: it subscribes to the space's old
 * gossip topics, opens Weft's own `/weft/sync/1` handshake (on libp2p and
 * on a WebSocket), re-publishes a member's signed advert to a member that
 * has not seen it, asks for a run manifest by CID and listens for
 * wantlists. It gets nothing, and nothing it sends is accepted.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { type GossipSub, gossipsub } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { Libp2p, PeerId } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { createHelia } from "helia";
import { lpStream } from "@libp2p/utils";
import { createLibp2p } from "libp2p";
import type { Bitswap } from "@helia/bitswap";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { manifestCid } from "../../protocol/artifacts/manifest.ts";
import { decodeFrame, encodeFrame, type Frame, type GossipChannel, SYNC_PROTOCOL } from "../../protocol/sync/frames.ts";
import { didFromPeerId } from "../../protocol/identity/peer-id.ts";
import { generateSeed, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { type WebSocketLike, WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { newTaskId, type Space } from "../../protocol/space/space.ts";
import { MemoryStorageAdapter } from "../../protocol/storage/memory-storage.ts";
import { utf8 } from "../../protocol/bytes.ts";
import { advert } from "../helpers/adverts.ts";
import { type ArtifactPeer, artifactPeer, runLog } from "../helpers/artifacts.ts";
import { dial, eventually, libp2pNode, type TestNode } from "../helpers/nodes.ts";

const CHANNELS: GossipChannel[] = ["capacity", "heads", "leases"];
/** The topic names Weft nodes used on gossipsub: the first thing a stranger would try. */
const topicOf = (space: string, channel: GossipChannel) => `weft/1/${space}/${channel}`;
/** How long a stranger's request may wait for an answer before it counts as refused. */
const ASK_MS = 3000;

/** A stock js-libp2p node with gossipsub: no Weft code, fully offline (no discovery, no routers). */
async function stockGossipNode(): Promise<Libp2p<{ identify: unknown; pubsub: GossipSub }>> {
  return await createLibp2p({
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
    },
  });
}

/** The protocols `peer` told `node` it speaks (identify), once it has. */
async function protocolsOf(node: Libp2p, peer: PeerId): Promise<string[]> {
  return await eventually(
    async () => {
      const p = await node.peerStore.get(peer).catch(() => undefined);
      return p && p.protocols.length > 0 ? p.protocols : undefined;
    },
    10_000,
    "identify",
  ) as string[];
}

/** Stock helia: its own libp2p with bitswap, fully offline (no discovery, no routers, no gateways). */
async function stockHelia() {
  const helia = createHelia({
    libp2p: {
      addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: { identify: identify() },
    },
    http: { delegatedRouters: [], recursiveGateways: [] },
    routers: [],
  });
  await helia.start();
  return helia;
}

/** The stranger's bitswap (helia keeps it among its block brokers), to see what peers told it they want. */
function bitswapOf(helia: Awaited<ReturnType<typeof stockHelia>>): Bitswap {
  const brokers = (helia as unknown as { blockBrokers: Array<{ name: string; bitswap?: Bitswap }> }).blockBrokers;
  return brokers.find((x) => x.name === "bitswap")!.bitswap!;
}

const speaksGossipsub = (protocols: string[]) => protocols.some((p) => p.startsWith("/meshsub/"));

/**
 * Until the stranger's gossipsub knows `peer` is on `topic`, if `peer` runs
 * gossipsub at all: after this, whatever `peer` publishes there reaches it.
 */
async function meshedWith(stranger: Libp2p<{ pubsub: GossipSub }>, peer: PeerId, topic: string): Promise<void> {
  if (!speaksGossipsub(await protocolsOf(stranger, peer))) return;
  await eventually(() => stranger.services.pubsub.getSubscribers(topic).some((p) => p.equals(peer)), 10_000, "mesh");
}

/**
 * The sync handshake as the wire format defines it, from a stranger: hello,
 * then an auth with no proofs (it has none); every frame heard until the
 * member's own auth.
 */
async function handshake(
  did: string,
  send: (frame: Uint8Array) => unknown,
  read: () => Promise<Uint8Array>,
): Promise<Uint8Array[]> {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  await send(encodeFrame({ type: "hello", version: 1, nonce, did, peer: did }));
  await send(encodeFrame({ type: "auth", proofs: [] }));
  const heard: Uint8Array[] = [];
  while (!heard.some((b) => decodeFrame(b).type === "auth")) heard.push(await read());
  return heard;
}

/** The member proved no space, and named neither the space nor its document. */
function assertToldNothing(heard: Uint8Array[], space: Space): void {
  const auth = heard.map((b) => decodeFrame(b)).find((f) => f.type === "auth") as Extract<Frame, { type: "auth" }>;
  assert.equal(auth.proofs.length, 0, "the member proved its spaces to a stranger");
  const text = heard.map((b) => new TextDecoder().decode(b)).join("");
  for (const secret of [space.id, space.url.replace(/^automerge:/, "")]) {
    assert.ok(!text.includes(secret), `the stranger was told ${secret}`);
  }
}

describe("a stranger running stock libp2p or helia gets nothing of a space", () => {
  let a: TestNode;
  let b: TestNode;
  let storageB: MemoryStorageAdapter;
  let spaceA: Space;
  let spaceB: Space;

  before(async () => {
    storageB = new MemoryStorageAdapter();
    a = await libp2pNode();
    b = await libp2pNode({ storage: storageB });
    spaceA = await a.node.createSpace("secret");
    const invite = await a.node.invite(spaceA.id, { audience: b.node.did });
    await dial(b, a);
    spaceB = await b.node.join(invite, { signal: AbortSignal.timeout(15_000) });
    await eventually(() => a.node.sessionTo(b.node.did)?.shared.has(spaceA.id), 10_000, "space shared");
  });
  after(async () => {
    await b?.node.stop();
    await a?.node.stop();
  });

  it("a stock gossipsub node subscribed to the space's topics receives no adverts, heads or leases", async () => {
    const stranger = await stockGossipNode();
    try {
      const got: string[] = [];
      stranger.services.pubsub.addEventListener("message", (e) => got.push(e.detail.topic));
      for (const channel of CHANNELS) stranger.services.pubsub.subscribe(topicOf(spaceA.id, channel));
      for (const member of [a, b]) {
        await stranger.dial(member.node.libp2p!.getMultiaddrs()[0]);
        for (const channel of CHANNELS) {
          await meshedWith(stranger, member.node.libp2p!.peerId, topicOf(spaceA.id, channel));
        }
      }

      // The members exchange adverts, heads (a new task) and a lease renewal.
      const rounds = 3;
      for (let i = 0; i < rounds; i++) {
        await a.node.gossip(spaceA.id)!.advertise(advert({ slots: 10 + i, gpus: 1, tags: ["gpu"] }));
        await b.node.gossip(spaceB.id)!.advertise(advert({ slots: 20 + i }));
      }
      const task = await spaceA.createTask({ title: "private work" });
      await eventually(() => spaceB.task(task.id), 10_000, "task on B");
      const claimed = await spaceB.claim(task.id, 10_000);
      await spaceB.renew(task.id, claimed.lease!.fence, 30_000);
      await eventually(
        () =>
          a.node.gossip(spaceA.id)!.adverts().some((x) => x.node === b.node.did && x.slots === 20 + rounds - 1) &&
          b.node.gossip(spaceB.id)!.adverts().some((x) => x.node === a.node.did && x.slots === 10 + rounds - 1) &&
          (spaceA.task(task.id)?.lease?.expires ?? 0) > Date.now() + 20_000 &&
          a.node.diagnostics.counter("gossip.accepted.heads") > 0 &&
          b.node.diagnostics.counter("gossip.accepted.heads") > 0,
        10_000,
        "members have each other's adverts, heads and the renewal",
      );

      assert.deepEqual(got, [], "the stranger received messages of the space");
      assert.ok(stranger.getConnections(a.node.libp2p!.peerId).length > 0, "the stranger stayed connected");
    } finally {
      await stranger.stop();
    }
  });

  it("a stranger that opens the sync handshake with a member is told none of its spaces", async () => {
    const stranger = await stockGossipNode();
    try {
      const stream = await stranger.dialProtocol(a.node.libp2p!.getMultiaddrs()[0], SYNC_PROTOCOL, {
        signal: AbortSignal.timeout(10_000),
      });
      const lp = lpStream(stream);
      const heard = await handshake(
        didFromPeerId(stranger.peerId),
        (frame) => lp.write(frame),
        async () => (await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray(),
      );
      assertToldNothing(heard, spaceA);
      await stream.close();
    } finally {
      await stranger.stop();
    }
  });

  it("nor is a stranger that opens it on a member's WebSocket", async () => {
    const ws = a.node.addNetwork((o) => new WebSocketNetworkAdapter(o));
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    server.on("connection", (socket) => ws.accept(socket as unknown as WebSocketLike));
    await new Promise((r) => server.once("listening", r));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    client.binaryType = "arraybuffer";
    const inbox: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    client.addEventListener("message", (e) => {
      inbox.push(new Uint8Array(e.data as ArrayBuffer));
      wake?.();
    });
    try {
      await new Promise((r) => client.addEventListener("open", r, { once: true }));
      const heard = await handshake(
        (await signerFromSeed(generateSeed())).did,
        (frame) => client.send(frame),
        async () => {
          while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
          return inbox.shift()!;
        },
      );
      assertToldNothing(heard, spaceA);
    } finally {
      client.close();
      ws.disconnect();
      await new Promise((r) => server.close(r));
    }
  });

  it("a member's signed advert re-published by a stranger is not accepted, even by a member that never saw it", async () => {
    const captured = b.node.gossip(spaceB.id)!.advertBytes();
    assert.ok(captured.length > 0);
    // A goes away; B restarts (same key and storage), knowing no live adverts.
    await a.node.stop();
    await b.node.stop();
    b = await libp2pNode({ seed: b.seed, storage: storageB });
    spaceB = await eventually(() => b.node.space(spaceA.id), 10_000, "space restored") as Space;
    const stranger = await stockGossipNode();
    try {
      const topic = topicOf(spaceA.id, "capacity");
      stranger.services.pubsub.subscribe(topic);
      await stranger.dial(b.node.libp2p!.getMultiaddrs()[0]);
      const path = speaksGossipsub(await protocolsOf(stranger, b.node.libp2p!.peerId));
      await meshedWith(stranger, b.node.libp2p!.peerId, topic);
      for (const bytes of captured) await stranger.services.pubsub.publish(topic, bytes);

      const fresh = () => b.node.gossip(spaceB.id)!.adverts().some((x) => x.node === a.node.did);
      // Where there is a way in, give the replay time to land; where there is none, nothing can arrive.
      if (path) await eventually(fresh, ASK_MS, "replay").catch(() => {});
      assert.equal(fresh(), false, "the stranger's replay made a stopped node look alive");
      assert.equal(b.node.diagnostics.counter("gossip.accepted.capacity"), 0);
    } finally {
      await stranger.stop();
    }
  });
});

describe("manifests go only to members of their space: stock helia gets no block and no wantlist", () => {
  let a: ArtifactPeer;
  let b: ArtifactPeer;
  let space: Space;
  let stranger: Awaited<ReturnType<typeof stockHelia>>;

  const spec: RunSpec = {
    runner: "wasm",
    program: rawCid("1".repeat(64)),
    args: [],
    inputs: [],
    env: [],
    limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1 << 20 },
  };

  before(async () => {
    a = await artifactPeer();
    b = await artifactPeer();
    space = await a.node.createSpace("builds");
    const invite = await a.node.invite(space.id, { audience: b.node.did });
    await dial(b, a);
    await b.node.join(invite, { signal: AbortSignal.timeout(15_000) });
    stranger = await stockHelia();
    for (const member of [a, b]) await stranger.libp2p.dial(member.node.libp2p!.getMultiaddrs()[0]);
  });
  after(async () => {
    await stranger?.stop();
    await b?.stop();
    await a?.stop();
  });

  /** A finished run recorded on A: its signed manifest, kept and pinned there. */
  async function recordedRun(report: string) {
    const stored = await a.artifacts.local.write([utf8(report)]);
    const now = Date.now();
    return await a.artifacts.recordRun(space.id, {
      task: newTaskId(),
      spec,
      result: {
        status: "succeeded",
        exitCode: 0,
        outputs: [{ path: "report.txt", size: stored.size, sha256: stored.sha256, cid: stored.cid }],
        startedAt: now - 1500,
        endedAt: now - 500,
      },
      log: runLog(report),
    });
  }

  it("asks a member peer for a run manifest it holds, by CID, and gets no block", async () => {
    const built = await recordedRun("coverage: 93%\n");
    const cid = manifestCid(built.bytes);
    assert.equal(await a.artifacts.manifests.has(cid), true);
    // A member fetches it by CID; the stranger asking the same peer for the same CID gets nothing.
    assert.equal((await b.artifacts.manifest(space.id, built.cid, AbortSignal.timeout(10_000))).cid, built.cid);
    await assert.rejects(async () => {
      for await (const _ of stranger.blockstore.get(cid, { signal: AbortSignal.timeout(ASK_MS) })) {
        // a block arrived
      }
    });
    assert.equal(await stranger.blockstore.has(cid), false);
  });

  it("a member peer looking for a manifest sends the stranger no wantlist", async () => {
    const bitswap = bitswapOf(stranger);
    const wanted = manifestCid(utf8(JSON.stringify({ space: space.id, task: newTaskId() })));
    const seen = new Set<string>();
    const watch = setInterval(() => {
      for (const member of [a, b]) {
        for (const w of bitswap.getPeerWantlist(member.node.libp2p!.peerId) ?? []) seen.add(w.cid.toString());
      }
    }, 5);
    try {
      // Nobody has it: B keeps asking every member it can reach until it gives up.
      await assert.rejects(b.artifacts.manifests.get(wanted, { signal: AbortSignal.timeout(ASK_MS) }), {
        code: "not-found",
      });
    } finally {
      clearInterval(watch);
    }
    assert.deepEqual([...seen], [], "the stranger was told what a member wants");
  });

  it("a member of another space on the same peer gets no manifest of this one", async () => {
    const built = await recordedRun("coverage: 71%\n");
    const other = await libp2pNode();
    try {
      const elsewhere = await a.node.createSpace("elsewhere");
      await dial(other, a);
      await other.node.join(await a.node.invite(elsewhere.id, { audience: other.node.did }), {
        signal: AbortSignal.timeout(15_000),
      });
      await eventually(() => other.node.sessionTo(a.node.did)?.shared.has(elsewhere.id), 10_000, "shared");
      assert.equal(await other.node.fetchBlob(built.cid, AbortSignal.timeout(ASK_MS)), undefined);
      // A member of the manifest's space asking the same peer gets it.
      assert.ok(await b.node.fetchBlob(built.cid, AbortSignal.timeout(10_000)));
    } finally {
      await other.node.stop();
    }
  });
});
