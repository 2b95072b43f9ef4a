/**
 * The edge relay: members who never meet directly sync through it; it
 * relays a space only to those who prove membership; a non-member gets
 * nothing; a stock automerge-repo client with a token syncs through it;
 * what it relays survives a restart.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { WebSocket } from "ws";
import { CID } from "multiformats/cid";
import { createRelay, type Relay } from "../../peer/relay/relay.ts";
import { serve, type Served } from "../../peer/http/serve.ts";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { createNode, type WeftNode } from "../../protocol/node/node.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { requestArgs } from "../../peer/api/request.ts";
import type { Space } from "../../protocol/space/space.ts";
import { eventually, memoryKeystore, stateDigest } from "../helpers/nodes.ts";

async function member(relayUrl: string): Promise<{ node: WeftNode; ws: WebSocketNetworkAdapter }> {
  const node = await createNode({
    signer: nativeSigner(generateSeed()),
    verifier: nativeVerifier(),
    keystore: memoryKeystore(),
  });
  const ws = node.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 }));
  ws.connectTo(relayUrl, { carrier: true });
  return { node, ws };
}

/** The stock WebSocket client, kept from reconnecting once a test is done with it. */
class StockClient extends WebSocketClientAdapter {
  stopped = false;
  override connect(...args: Parameters<WebSocketClientAdapter["connect"]>) {
    if (!this.stopped) super.connect(...args);
  }
  /** Closing a socket that never opened makes ws emit "error", which the stock client no longer listens for. */
  override disconnect(): void {
    this.socket?.addEventListener("error", () => {});
    super.disconnect();
  }
}

/** Open a WebSocket to `url`: "open", or the HTTP status and error code its upgrade was refused with. */
function tryUpgrade(url: string): Promise<string> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.once("open", () => {
      socket.close();
      resolve("open");
    });
    socket.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => body += chunk);
      response.on("end", () => resolve(`${response.statusCode} ${JSON.parse(body).error.code}`));
    });
    socket.once("error", reject);
  });
}

describe("edge relay", () => {
  let dir: string;
  const relaySeed = generateSeed();
  let relay: Relay;
  let storage: LogStorageAdapter;
  let http: Served;
  let url: string;

  async function startRelay(port = 0) {
    storage = await LogStorageAdapter.open({ dir: join(dir, "relay") });
    relay = await createRelay({ signer: nativeSigner(relaySeed), storage, verifier: nativeVerifier() });
    http = await serve({ app: relay.app, host: "127.0.0.1", port, upgrade: (u) => relay.upgrade(u) });
    url = `ws://127.0.0.1:${http.port}/v1/sync`;
  }
  async function stopRelay() {
    await http.close();
    await relay.stop();
    await storage.close();
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-relay-"));
    await startRelay();
  });
  after(async () => {
    await stopRelay();
    await rm(dir, { recursive: true, force: true });
  });

  let a: { node: WeftNode }, b: { node: WeftNode };
  let spaceA: Space, spaceB: Space;

  /** A self-made sync token of a's for space A, addressed to the relay, living `seconds`. */
  async function syncToken(seconds: number): Promise<string> {
    const chain = spaceA.authority.chainsFor(a.node.did, Commands.spaceSync, Math.floor(Date.now() / 1000))[0];
    const inv = await invoke({
      issuer: a.node.signer,
      audience: relay.node.did,
      subject: spaceA.id,
      command: Commands.spaceSync,
      args: requestArgs("GET", "/v1/sync"),
      proofs: chain.map((d) => d.cid as CID),
      expiration: Math.floor(Date.now() / 1000) + seconds,
    });
    return await encodeContainer([inv.bytes, ...chain.map((d) => d.bytes)], "C") as string;
  }

  it("members who never meet sync through it", async () => {
    a = await member(url);
    b = await member(url);
    spaceA = await a.node.createSpace("relayed");
    // Let the relay host the space: it learns of it from a's proof.
    await eventually(() => relay.node.space(spaceA.id), 10_000, "relay hosts the space");
    const invite = await a.node.invite(spaceA.id, { audience: b.node.did });
    spaceB = await b.node.join(invite, { signal: AbortSignal.timeout(15_000) });
    const t = await spaceA.createTask({ title: "via the relay" });
    await eventually(() => spaceB.task(t.id), 15_000, "task reaches b");
    const t2 = await spaceB.createTask({ title: "and back" });
    await eventually(() => spaceA.task(t2.id), 15_000, "task reaches a");
    await eventually(() => stateDigest(spaceA) === stateDigest(spaceB), 10_000, "identical");
    // The relay verifies what it carries, but holds no key of theirs and acts for no one.
    assert.equal(relay.node.space(spaceA.id)!.members().some((m) => m.did === relay.node.did), false);
  });

  it("a non-member connected to the relay gets nothing", async () => {
    const outsider = await member(url);
    try {
      await assert.rejects(outsider.node.repo.find(spaceA.url, { signal: AbortSignal.timeout(3000) }));
    } finally {
      await outsider.node.stop();
    }
  });

  it("a stock automerge-repo client with a membership token syncs through it; without, nothing", async () => {
    const token = await syncToken(60);
    for (const [withToken, expectDoc] of [[true, true], [false, false]] as const) {
      const adapter = new StockClient(withToken ? `${url}?token=${encodeURIComponent(token)}` : url);
      const repo = new Repo({ network: [adapter] });
      try {
        const found = repo.find<{ space: string }>(spaceA.url, {
          signal: AbortSignal.timeout(expectDoc ? 10_000 : 3000),
        });
        if (expectDoc) assert.equal((await found).doc().space, spaceA.id);
        else await assert.rejects(found);
      } finally {
        adapter.stopped = true;
        (adapter as { retryInterval: number }).retryInterval = 0;
        await repo.shutdown().catch(() => {});
      }
    }
  });

  it("a stock client of one space is served and walked over that space's documents only", async () => {
    const other = await b.node.createSpace("another space");
    await eventually(() => relay.node.space(other.id), 10_000, "relay hosts the other space");
    // What the relay's repo asks its share policy about while it adds a peer: the documents a connect walks.
    const repo = relay.node.repo;
    const policy = repo.shareConfig;
    const sync = repo.synchronizer;
    const addPeer = sync.addPeer;
    let adding: string | undefined;
    const asked = new Map<string, Set<string>>();
    sync.addPeer = (peer) => {
      adding = peer;
      try {
        addPeer.call(sync, peer);
      } finally {
        adding = undefined;
      }
    };
    repo.shareConfig = {
      ...policy,
      announce: (peer, doc) => {
        if (doc !== undefined && peer === adding) asked.set(peer, (asked.get(peer) ?? new Set()).add(doc));
        return policy.announce(peer, doc);
      },
    };
    const adapter = new StockClient(`${url}?token=${encodeURIComponent(await syncToken(60))}`);
    const client = new Repo({ network: [adapter] });
    const peer = client.networkSubsystem.peerId;
    const inSpace = (s: Space) => (doc: string) => (s.documentIds as string[]).includes(doc);
    try {
      assert.equal(
        (await client.find<{ space: string }>(spaceA.url, { signal: AbortSignal.timeout(10_000) }))
          .doc().space,
        spaceA.id,
      );
      await assert.rejects(client.find(other.url, { signal: AbortSignal.timeout(3000) }), "another space's document");
      const walked = [...asked.get(peer) ?? []];
      assert.ok(walked.length > 0 && walked.every(inSpace(spaceA)), "its connect checked its own space's documents");
      assert.ok(!walked.some(inSpace(other)), "and never the other space's");
    } finally {
      repo.shareConfig = policy;
      sync.addPeer = addPeer;
      adapter.stopped = true;
      (adapter as { retryInterval: number }).retryInterval = 0;
      await client.shutdown().catch(() => {});
    }
    // Gone, it is dropped from every document it synced.
    const syncing = () =>
      Object.values(repo.synchronizer.docSynchronizers).filter((d) => d.hasPeer(peer)).map((d) => d.documentId);
    await eventually(() => syncing().length === 0, 10_000, "the relay stops syncing with the departed client");
  });

  it("a single-use sync token stays used across a relay restart", async () => {
    const token = encodeURIComponent(await syncToken(300));
    assert.equal(await tryUpgrade(`${url}?token=${token}`), "open");
    assert.equal(await tryUpgrade(`${url}?token=${token}`), "401 auth/replayed");
    const port = http.port;
    await stopRelay();
    await startRelay(port);
    assert.equal(await tryUpgrade(`${url}?token=${token}`), "401 auth/replayed", "a restart made a used token good");
  });

  it("what it relays survives a relay restart", async () => {
    const port = http.port;
    await stopRelay();
    const t = await spaceA.createTask({ title: "while the relay was down" });
    await startRelay(port);
    assert.ok(relay.node.space(spaceA.id), "the relay reopened the space it carries");
    await eventually(() => spaceB.task(t.id), 20_000, "b gets it after the relay returns");
    await a.node.stop();
    await b.node.stop();
  });
});
