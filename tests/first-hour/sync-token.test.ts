/**
 * `POST /v1/spaces/:space/sync-tokens` (`weft token --sync`): a stock
 * automerge-repo client in a process of its own, given the token's URL,
 * stays synced across three forced reconnects (a TCP proxy in front of the
 * peer drops every connection; the client redials with the same URL), and
 * is cut off once the token's delegation is revoked. A token lapses at its
 * expiry, and a self-made token may not claim to be a standing one.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { connect, createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { CID } from "multiformats/cid";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { generateSeed, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { decodeContainer, encodeContainer } from "../../protocol/ucan/container.ts";
import { requestArgs } from "../../peer/api/request.ts";

const CLIENT = new URL("./stock-sync-client.ts", import.meta.url).pathname;
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

interface Minted {
  token: string;
  cid: string;
  expiration: number;
  url: string;
  documentUrl: string;
}

/** A TCP proxy to `port` that can drop every connection through it at once, as a network blip does. */
async function proxy(port: number): Promise<{ port: number; connections: number; cut(): void; close(): void }> {
  const open = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((down) => {
    connections++;
    const up = connect(port, "127.0.0.1");
    for (const s of [down, up]) {
      open.add(s);
      s.on("error", () => {});
      s.on("close", () => open.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    get connections() {
      return connections;
    },
    cut() {
      for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

/** Whether a WebSocket upgrade with this URL is accepted. */
function upgrades(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new WebSocket(url);
    s.addEventListener("open", () => {
      s.close();
      resolve(true);
    });
    s.addEventListener("error", () => resolve(false));
  });
}

describe("sync tokens for stock automerge-repo clients", { timeout: 120_000 }, () => {
  let d: TestDaemon;
  let space: string;
  let child: ChildProcess | undefined;

  const mint = (body: Record<string, unknown> = {}) =>
    d.client.request<Minted>("POST", `/v1/spaces/${encodeURIComponent(space)}/sync-tokens`, body);

  before(async () => {
    d = await testDaemon();
    space = d.daemon.node.spaces()[0].id;
  });
  after(async () => {
    child?.kill("SIGKILL");
    await d?.stop();
  });

  it("keeps a stock client synced across three forced reconnects, and cuts it off once revoked", async () => {
    const minted = await mint({ name: "stock client" });
    assert.ok(minted.expiration > Date.now() / 1000 + 3600, "lives for hours by default");
    const relay = await proxy(Number(new URL(d.daemon.url).port));
    try {
      const url = minted.url.replace(/:\d+\//, `:${relay.port}/`);
      const lines: Array<{ ops?: number; disconnected?: boolean }> = [];
      let exited = false;
      // Its event lines on fd 3; what the stock Repo logs to stdout or stderr ("error receiving message" while a
      // connection is cut) goes to this test's output, not into the parser.
      child = spawn(process.execPath, [CLIENT, url, minted.documentUrl], {
        stdio: ["ignore", "inherit", "inherit", "pipe"],
      });
      child.on("exit", () => (exited = true));
      let buffered = "";
      child.stdio[3]!.on("data", (chunk) => {
        buffered += chunk;
        for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
          lines.push(JSON.parse(buffered.slice(0, i)));
          buffered = buffered.slice(i + 1);
        }
      });
      const ops = () => lines.findLast((l) => l.ops !== undefined)?.ops ?? -1;
      const drops = () => lines.filter((l) => l.disconnected).length;
      await eventually(() => ops() >= 0, 15_000, "the client has the space document");
      const s = d.daemon.node.space(space)!;
      for (let round = 1; round <= 3; round++) {
        const connected = relay.connections;
        const dropped = drops();
        relay.cut();
        await eventually(() => drops() > dropped, 10_000, `the client saw drop ${round}`);
        const seen = ops();
        await s.rename(`after reconnect ${round}`);
        await eventually(() => ops() > seen, 15_000, `a change reaches the client after reconnect ${round}`);
        assert.ok(relay.connections > connected, `the client redialed (round ${round})`);
        assert.equal(exited, false);
      }
      const ended = d.daemon.node.diagnostics.counter("sync.stock.ended");
      const dropped = drops();
      await d.client.request("DELETE", `/v1/spaces/${encodeURIComponent(space)}/capabilities/${minted.cid}`);
      await eventually(
        () => d.daemon.node.diagnostics.counter("sync.stock.ended") > ended && (drops() > dropped || exited),
        10_000,
        "the peer closed the revoked client's session",
      );
      assert.equal(await upgrades(minted.url), false, "the revoked token is refused from then on");
    } finally {
      relay.close();
    }
  });

  it("ends a session when its token expires", async () => {
    const minted = await mint({ expiration: Math.floor(Date.now() / 1000) + 2 });
    const socket = new WebSocket(minted.url);
    const closed = new Promise<number>((r) => socket.addEventListener("close", (e) => r(e.code)));
    await new Promise((r, j) => {
      socket.addEventListener("open", r);
      socket.addEventListener("error", j);
    });
    assert.equal(await closed, 4401);
    assert.equal(await upgrades(minted.url), false);
  });

  it("refuses a self-made long-lived token whose sync-token delegation the space never recorded", async () => {
    const member = await signerFromSeed(generateSeed());
    const path = `/v1/spaces/${encodeURIComponent(space)}/capabilities`;
    const granted = await d.client.request<{ chain: string[]; container: string }>("POST", path, {
      audience: member.did,
      command: Commands.spaceSync,
    });
    const key = await signerFromSeed(generateSeed());
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const forged = await delegate({
      issuer: member,
      audience: key.did,
      subject: space,
      command: Commands.spaceSync,
      expiration: exp,
      meta: { kind: "sync-token" },
    });
    const inv = await invoke({
      issuer: key,
      audience: d.daemon.node.did,
      subject: space,
      command: Commands.spaceSync,
      args: requestArgs("GET", "/v1/sync"),
      proofs: [...granted.chain.map((c) => CID.parse(c)), forged.cid],
      expiration: exp,
    });
    const token = await encodeContainer([inv.bytes, ...(await decodeContainer(granted.container)), forged.bytes], "C");
    const url = `${d.daemon.url.replace("http", "ws")}/v1/sync?token=${encodeURIComponent(token as string)}`;
    assert.equal(await upgrades(url), false);
  });

  it("weft token --sync prints a URL a client connects with, naming the delegation to revoke", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      CLI,
      "token",
      "--sync",
      "--expires",
      "2h",
      "--json",
    ], {
      env: { ...process.env, WEFT_HOME: d.home },
    });
    const r = JSON.parse(stdout) as Minted;
    assert.ok(Math.abs(r.expiration - (Date.now() / 1000 + 7200)) < 60);
    assert.equal(await upgrades(r.url), true);
    assert.equal(await upgrades(r.url), true, "and again, with the same URL");
    const caps = await d.client.get<{ capabilities: Array<{ cid: string; meta: { kind?: string } }> }>(
      `/v1/spaces/${encodeURIComponent(space)}/capabilities`,
    );
    assert.equal(caps.capabilities.find((c) => c.cid === r.cid)?.meta.kind, "sync-token");
  });

  it("refuses to mint a token past 30 days or past the caller's own chain", async () => {
    await assert.rejects(mint({ expiration: Math.floor(Date.now() / 1000) + 31 * 86400 }), /30 days/);
    await assert.rejects(mint({ expiration: 1 }), /past/);
  });
});
