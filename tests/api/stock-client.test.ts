/**
 * A stock automerge-repo client (the published Repo and WebSocket client
 * adapter, no Weft code) syncs a space document from a peer when its URL
 * carries a valid membership token, gets nothing without one, keeps
 * syncing past its single-use token's expiry, and stops receiving once the
 * membership the token rests on lapses or is revoked.
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
import { decodeContainer, encodeContainer } from "../../protocol/ucan/container.ts";
import { generateSeed, signerFromSeed } from "../../protocol/identity/ed25519.ts";
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

/**
 * A new principal the daemon delegates sync to (until `membership`, Unix s, if given), and a single-use token
 * (living `ttl` s) it signs for a stock client; `revoke` ends its delegation.
 */
async function memberToken(
  d: TestDaemon,
  space: string,
  ttl = 60,
  membership?: number,
): Promise<{ token: string; revoke(): Promise<void> }> {
  const member = await signerFromSeed(generateSeed());
  const path = `/v1/spaces/${encodeURIComponent(space)}/capabilities`;
  const granted = await d.client.request<{ cid: string; chain: string[]; container: string }>("POST", path, {
    audience: member.did,
    command: Commands.spaceSync,
    ...(membership === undefined ? {} : { expiration: membership }),
  });
  const inv = await invoke({
    issuer: member,
    audience: d.daemon.node.did,
    subject: space,
    command: Commands.spaceSync,
    args: requestArgs("GET", "/v1/sync"),
    proofs: granted.chain.map((c) => CID.parse(c)),
    expiration: Math.floor(Date.now() / 1000) + ttl,
  });
  return {
    token: (await encodeContainer([inv.bytes, ...(await decodeContainer(granted.container))], "C")) as string,
    revoke: () => d.client.request("DELETE", `${path}/${encodeURIComponent(granted.cid)}`),
  };
}

/** How many space operations (e.g. renames) the client's copy of the space document holds. */
const opsIn = (handle: { doc(): { ops?: Record<string, unknown> } }) => Object.keys(handle.doc().ops ?? {}).length;

/** Nothing in flight reaches the client in this long: the peer pushes a change within milliseconds. */
const QUIET_MS = 2000;

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

  /** `body` with a stock client holding `token` and the space document it found; the client closed after. */
  const withSpaceDoc = async (
    token: string,
    body: (handle: { doc(): { ops?: Record<string, unknown> } }) => Promise<void>,
  ) => {
    const adapter = new StockClient(`${wsUrl()}?token=${encodeURIComponent(token)}`);
    const repo = new Repo({ network: [adapter] });
    try {
      await body(
        await repo.find<{ ops?: Record<string, unknown> }>(space.url as never, { signal: AbortSignal.timeout(10_000) }),
      );
    } finally {
      await adapter.close(repo);
    }
  };

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

  it("keep receiving past their single-use token's expiry: it opened the session, their membership holds it", async () => {
    const { token } = await memberToken(d, space.id, 3);
    const expires = (Math.floor(Date.now() / 1000) + 3 + 1) * 1000;
    await withSpaceDoc(token, async (handle) => {
      const ended = d.daemon.node.diagnostics.counter("sync.stock.ended");
      await eventually(() => Date.now() > expires + 500, 10_000, "the token lapses");
      // A change to the space's revocations re-checks every open session: this one still stands.
      const other = await memberToken(d, space.id);
      const rechecked = d.daemon.node.diagnostics.counter("sync.stock.rechecked");
      await other.revoke();
      await eventually(
        () => d.daemon.node.diagnostics.counter("sync.stock.rechecked") > rechecked,
        10_000,
        "the sessions re-checked after the revocation",
      );
      const seen = opsIn(handle);
      await d.daemon.node.space(space.id)!.rename("after the token lapsed");
      await eventually(() => opsIn(handle) > seen, 10_000, "a change after the token lapsed");
      assert.equal(d.daemon.node.diagnostics.counter("sync.stock.ended"), ended, "no session was ended");
    });
  });

  it("stop receiving the space once the membership their token rests on lapses", async () => {
    const membership = Math.floor(Date.now() / 1000) + 3;
    const { token } = await memberToken(d, space.id, 60, membership);
    await withSpaceDoc(token, async (handle) => {
      const seen = opsIn(handle);
      const ended = d.daemon.node.diagnostics.counter("sync.stock.ended");
      await d.daemon.node.space(space.id)!.rename("while the membership holds");
      await eventually(() => opsIn(handle) > seen, 5000, "a change while the membership holds");
      await eventually(
        () => d.daemon.node.diagnostics.counter("sync.stock.ended") > ended,
        15_000,
        "the peer ends the session as the membership lapses",
      );
      assert.ok(Date.now() >= (membership + 1) * 1000, "not before the membership's last second");
      const before = opsIn(handle);
      await d.daemon.node.space(space.id)!.rename("after the membership lapsed");
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(opsIn(handle), before, "a lapsed membership receives nothing new");
    });
  });

  it("stop receiving the space once their chain is revoked", async () => {
    const { token, revoke } = await memberToken(d, space.id);
    await withSpaceDoc(token, async (handle) => {
      const seen = opsIn(handle);
      await d.daemon.node.space(space.id)!.rename("before the revocation");
      await eventually(() => opsIn(handle) > seen, 5000, "a change before the revocation");
      const ended = d.daemon.node.diagnostics.counter("sync.stock.ended");
      await revoke();
      await eventually(
        () => d.daemon.node.diagnostics.counter("sync.stock.ended") > ended,
        5000,
        "the peer ends the revoked client's socket",
      );
      const before = opsIn(handle);
      await d.daemon.node.space(space.id)!.rename("after the revocation");
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(opsIn(handle), before, "a revoked chain receives nothing new");
    });
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
