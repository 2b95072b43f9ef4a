/**
 * A stock client's single-use token is recorded on disk (so a restart does
 * not make it good again) without holding up its upgrade: that write waits
 * behind the relay's document writes, over a second under load, and the
 * stock client gives a server one second from connecting to answer its
 * join. Against a relay whose storage holds the token's record until the
 * test lets it go: the socket opens and the join is answered at once, the
 * document is served only once the record is on disk, a second use of the
 * same token is refused even while the first is being recorded, and a
 * record that fails closes the socket (1011) having served nothing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AutomergeUrl, cbor, Repo, type StorageKey } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { WebSocket } from "ws";
import { createRelay, type Relay } from "../../peer/relay/relay.ts";
import { serve, type Served } from "../../peer/http/serve.ts";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { type HostedSpace, hostSpaces, tokenUrl } from "../bench/relay-rig.ts";

/** The relay's storage, with each token record held (while `holding`) until `settle` lets it go or fails it. */
function holdingRecords(inner: LogStorageAdapter) {
  const control = { held: [] as Array<{ settle(ok: boolean): void }>, holding: false };
  const save = (key: StorageKey, data: Uint8Array): Promise<void> => {
    if (!control.holding || key[0] !== "weft-replays") return inner.save(key, data);
    return new Promise((resolve, reject) => {
      control.held.push({
        settle: (ok) => ok ? inner.save(key, data).then(resolve, reject) : reject(new Error("disk full")),
      });
    });
  };
  const storage = new Proxy(inner, {
    get(target, prop) {
      if (prop === "save") return save;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { storage, control };
}

/** Opens a raw socket to `url` and joins; resolves with the socket once the relay answers the join. */
async function joined(url: string): Promise<{ ws: WebSocket; closed: Promise<number>; messages: unknown[] }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const messages: unknown[] = [];
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const answered = new Promise((resolve) => ws.once("message", resolve));
  ws.on("message", (data: ArrayBuffer) => messages.push(cbor.decode(new Uint8Array(data))));
  ws.send(
    cbor.encode({
      type: "join",
      senderId: `raw-${messages.length}-${Math.random()}`,
      supportedProtocolVersions: ["1"],
      peerMetadata: {},
    }),
  );
  await answered;
  return { ws, closed, messages };
}

describe("a stock client's token is recorded without holding up its upgrade", () => {
  let dir: string;
  let inner: LogStorageAdapter;
  let storage: ReturnType<typeof holdingRecords>["control"];
  let relay: Relay;
  let http: Served;
  let target: { url: string; did: string };
  let space: HostedSpace;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-token-record-"));
    inner = await LogStorageAdapter.open({ dir });
    const held = holdingRecords(inner);
    storage = held.control;
    relay = await createRelay({
      signer: nativeSigner(generateSeed()),
      storage: held.storage,
      verifier: nativeVerifier(),
    });
    http = await serve({ app: relay.app, host: "127.0.0.1", port: 0, upgrade: (u) => relay.upgrade(u) });
    target = { url: `ws://127.0.0.1:${http.port}/v1/sync`, did: relay.node.did };
    [space] = await hostSpaces(target, 1);
    storage.holding = true;
  });

  after(async () => {
    for (const h of storage.held.splice(0)) h.settle(true);
    await http.close();
    await relay.stop();
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("opens and answers the join at once, and serves the document once the record is on disk", async () => {
    const repo = new Repo({ network: [new WebSocketClientAdapter(await tokenUrl(target, space))] });
    try {
      const found = repo.find(space.url as AutomergeUrl);
      // Held past the stock client's one second: before, the upgrade itself waited for this write.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(storage.held.length, 1, "the token's record is waiting on disk");
      storage.held.shift()!.settle(true);
      const handle = await found;
      assert.ok(handle.doc(), "the document arrived once its token was recorded");
    } finally {
      repo.shutdown();
    }
  });

  it("refuses a second use of the token while the first is still being recorded", async () => {
    const url = await tokenUrl(target, space);
    const first = await joined(url);
    assert.equal(storage.held.length, 1);
    const second = new WebSocket(url);
    const status = await new Promise<number | undefined>((resolve) => {
      second.once("unexpected-response", (_req, res) => resolve(res.statusCode));
      second.once("open", () => resolve(undefined));
      second.once("error", () => {});
    });
    assert.equal(status, 401, "the replay is refused at its upgrade");
    storage.held.shift()!.settle(true);
    first.ws.close();
    await first.closed;
  });

  it("closes the socket with 1011, having served nothing, when the record cannot be written", async () => {
    const { closed, messages } = await joined(await tokenUrl(target, space));
    assert.equal(storage.held.length, 1);
    storage.held.shift()!.settle(false);
    assert.equal(await closed, 1011);
    assert.deepEqual(messages.map((m) => (m as { type: string }).type), ["peer"], "only the join's answer was sent");
  });
});
