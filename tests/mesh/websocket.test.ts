import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { createNode } from "../../protocol/node/node.ts";
import { generateSeed, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { type WebSocketLike, WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { eventually, memoryKeystore, stateDigest } from "../helpers/nodes.ts";

describe("sync over WebSocket", () => {
  it("a client joins a space through a peer's WebSocket endpoint, and reconnects after a drop", async () => {
    const server = await createNode({ signer: await signerFromSeed(generateSeed()), keystore: memoryKeystore() });
    const serverWs = server.addNetwork((o) => new WebSocketNetworkAdapter(o));
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    wss.on("connection", (socket) => serverWs.accept(socket as unknown as WebSocketLike));
    await new Promise((r) => wss.once("listening", r));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const client = await createNode({ signer: await signerFromSeed(generateSeed()), keystore: memoryKeystore() });
    const clientWs = client.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 }));
    try {
      const space = await server.createSpace("ws");
      const invite = await server.invite(space.id, { audience: client.did });
      clientWs.connectTo(url);
      const joined = await client.join(invite, { signal: AbortSignal.timeout(10_000) });
      assert.equal(clientWs.status.get(url), "open");
      // Who answers at that URL, as its session's handshake proved (the browser addresses API requests to it).
      assert.equal(clientWs.remoteDidAt(url), server.did);
      assert.equal(clientWs.remoteDidAt("ws://127.0.0.1:1"), undefined);
      const t = await space.createTask({ title: "over ws" });
      await eventually(() => joined.task(t.id), 10_000, "task over ws");
      // Drop every connection: the client reconnects by itself and keeps syncing.
      for (const c of wss.clients) c.terminate();
      await eventually(() => clientWs.status.get(url) !== "open", 5000, "noticed the drop");
      assert.equal(clientWs.remoteDidAt(url), undefined, "no DID while the session is down");
      const t2 = await space.createTask({ title: "after the drop" });
      await eventually(() => joined.task(t2.id), 15_000, "task after reconnect");
      assert.equal(clientWs.remoteDidAt(url), server.did);
      await eventually(() => stateDigest(joined) === stateDigest(space), 10_000, "identical");
    } finally {
      await client.stop();
      await server.stop();
      await new Promise((r) => wss.close(r));
    }
  });
});
