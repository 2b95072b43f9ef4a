/**
 * A stock automerge-repo client (the published Repo and WebSocket client
 * adapter, no Weft code) syncs a space document from a peer when its URL
 * carries a valid membership token, and gets nothing without one.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { CID } from "multiformats/cid";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { requestArgs } from "../../peer/api/request.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { eventually } from "../helpers/nodes.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";

/** The stock client, unchanged except that it stays down once the test is done with it. */
class StockClient extends WebSocketClientAdapter {
  stopped = false;
  override connect(...args: Parameters<WebSocketClientAdapter["connect"]>): void {
    if (!this.stopped) super.connect(...args);
  }
  async close(repo: Repo): Promise<void> {
    this.stopped = true;
    (this as { retryInterval: number }).retryInterval = 0;
    await repo.shutdown().catch(() => {});
  }
}

export async function syncToken(d: TestDaemon, space: string, audience: string, ttl = 60): Promise<string> {
  const creds = await loadCredentials(d.home);
  const { spaces } = await d.client.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
  const chain = spaces.find((s) => s.id === space)!.chain.map((c) => CID.parse(c));
  const now = Math.floor(Date.now() / 1000);
  const inv = await invoke({
    issuer: creds.signer,
    audience,
    subject: space,
    command: Commands.spaceSync,
    args: requestArgs("GET", "/v1/sync"),
    proofs: [...chain, creds.powerline],
    expiration: now + ttl,
  });
  return (await encodeContainer([inv.bytes, creds.powerline.bytes], "C")) as string;
}

describe("stock automerge-repo clients", () => {
  let d: TestDaemon;
  let space: { id: string; url: string };

  before(async () => {
    d = await testDaemon();
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string; url: string }> }>("/v1/spaces");
    space = spaces[0];
    await d.client.op(space.id, "create", { task: "aaaaaaaaaaaaaaaa", title: "visible with a token" });
  });
  after(() => d.stop());

  const wsUrl = () => d.client.url.replace("http", "ws") + "/v1/sync";

  it("sync the space document with a valid token", async () => {
    const token = await syncToken(d, space.id, d.daemon.node.did);
    const adapter = new StockClient(`${wsUrl()}?token=${encodeURIComponent(token)}`);
    const repo = new Repo({ network: [adapter] });
    try {
      const handle = await repo.find<{ weft: string; space: string; genesis: Uint8Array }>(space.url as never, {
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(handle.doc().weft, "space/1");
      assert.equal(handle.doc().space, space.id);
      assert.ok(handle.doc().genesis instanceof Uint8Array);
      // It is served what it asks for, not pushed the space's other documents (its dozens of buckets)…
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(Object.keys(repo.handles), [handle.documentId]);
      // …which it gets when it asks.
      const bucket = d.daemon.node.space(space.id)!.documentIds[1];
      const found = await repo.find<{ weft: string }>(bucket as never, { signal: AbortSignal.timeout(10_000) });
      assert.equal(found.doc().weft, "bucket/1");
      // Documents of other spaces stay out of reach.
      const other = await d.client.request<{ url: string }>("POST", "/v1/spaces", { name: "secret" });
      await assert.rejects(repo.find(other.url as never, { signal: AbortSignal.timeout(3000) }));
    } finally {
      await adapter.close(repo);
    }
  });

  it("gets nothing without a token", async () => {
    const adapter = new StockClient(wsUrl());
    const repo = new Repo({ network: [adapter] });
    try {
      await assert.rejects(repo.find(space.url as never, { signal: AbortSignal.timeout(3000) }));
      await eventually(() => d.daemon.node.diagnostics.counter("refused.sync") > 0, 5000, "refusal counted");
    } finally {
      await adapter.close(repo);
    }
  });

  it("refuses the upgrade for a bad, expired or misaddressed token", async () => {
    const upgrade = (token: string) =>
      new Promise<boolean>((resolve) => {
        const s = new WebSocket(`${wsUrl()}?token=${encodeURIComponent(token)}`);
        s.addEventListener("open", () => {
          s.close();
          resolve(true);
        });
        s.addEventListener("error", () => resolve(false));
      });
    assert.equal(await upgrade("Cgarbage"), false);
    assert.equal(
      await upgrade(await syncToken(d, space.id, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")),
      false,
    );
    assert.equal(await upgrade(await syncToken(d, space.id, d.daemon.node.did, 86_400)), false);
    assert.equal(await upgrade(await syncToken(d, space.id, d.daemon.node.did)), true);
  });

  it("survives clients that reset the connection while their upgrade is being decided", async () => {
    const { hostname, port } = new URL(d.daemon.url);
    const token = encodeURIComponent(await syncToken(d, space.id, d.daemon.node.did));
    for (let i = 0; i < 20; i++) {
      const socket = connect(Number(port), hostname);
      await once(socket, "connect");
      socket.write(
        `GET /v1/sync?token=${token} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      socket.resetAndDestroy();
    }
    assert.deepEqual(await (await fetch(`${d.daemon.url}/healthz`)).json(), { ok: true });
  });
});
