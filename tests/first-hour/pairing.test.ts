/**
 * The pairing link `npm start` prints, followed in Debian's Chromium: the
 * peer process prints a one-time link to its own dashboard; opening it makes
 * the browser a device of the peer's space (a `device` delegation to the
 * browser's DID, nothing node-wide) and shows the peer's tasks; the same
 * link refuses a second browser, and the API refuses a reused code. An
 * invite by DID (`weft space invite --to`) reaches a browser served by the
 * peer without pasting, and only the browser holding that DID's key.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { eventually } from "../helpers/nodes.ts";
import { appReady, openProfile, type Profile } from "../e2e/chromium.ts";
import { ensurePwaBuilt } from "../e2e/pwa-build.ts";
import { generateSeed, type Signer, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";

describe("the pairing link npm start prints", { timeout: 300_000 }, () => {
  let peer: PeerProcess;
  let first: Profile;
  let second: Profile | undefined;
  let link: string;

  before(async () => {
    ensurePwaBuilt();
    peer = await startPeer();
    await eventually(() => /\/#\/pair\?code=/.test(peer.out), 10_000, "pairing link printed");
    link = /(http:\/\/\S+\/#\/pair\?code=\S+)/.exec(peer.out)![1];
    first = await openProfile();
  });

  after(async () => {
    await second?.close();
    await first?.close();
    if (peer) await stopPeer(peer);
  });

  it("serves the built dashboard, not the page asking to build it", async () => {
    const html = await (await fetch(new URL("/", link))).text();
    assert.match(html, /<script[^>]+type="module"/);
    assert.doesNotMatch(html, /not built/);
  });

  it("makes the browser a device of the peer's space in one click, and it sees the peer's tasks", async () => {
    const title = `filed on the peer ${Date.now()}`;
    const space = JSON.parse(await weft(peer, "space", "list", "--json")).spaces[0].id as string;
    await weft(peer, "task", "add", title, "--space", space, "--json");
    const page = first.page;
    await page.goto(link);
    await appReady(page);
    await page.locator("tr", { hasText: title }).waitFor({ timeout: 60_000 });
    assert.doesNotMatch(page.url(), /code=/, "the code left the address bar");
    const browser = await page.evaluate(() =>
      (globalThis as unknown as { weft: { node: { did: string } } }).weft.node.did
    );
    const { capabilities: caps } = JSON.parse(await weft(peer, "cap", "list", "--space", space, "--json")) as {
      capabilities: Array<{ aud: string; cmd: string; meta: { kind?: string } }>;
    };
    const mine = caps.filter((c) => c.aud === browser);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].meta.kind, "device");
    assert.equal(mine[0].cmd, "/weft");
  });

  it("refuses the same link afterwards, in a browser and at the API", async () => {
    second = await openProfile();
    await second.page.goto(link);
    await appReady(second.page);
    await second.page.locator("#pair-status[role=alert]", { hasText: "used already" }).waitFor();
    const code = new URL(link.replace("/#/pair?", "/?")).searchParams.get("code");
    const r = await fetch(new URL("/v1/pair", link), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, audience: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" }),
    });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, "pair/refused");
  });

  it("delivers an invite by DID to the browser it names, which joins with one click", async () => {
    const page = second!.page;
    const browser = await page.evaluate(() =>
      (globalThis as unknown as { weft: { node: { did: string } } }).weft.node.did
    );
    const created = JSON.parse(await weft(peer, "space", "create", "by-did", "--json")) as { id: string };
    const title = `in the space invited by DID ${Date.now()}`;
    await weft(peer, "task", "add", title, "--space", created.id, "--json");
    await weft(peer, "space", "invite", "--space", created.id, "--to", browser);
    await page.click("button:has-text('Join by-did')", { timeout: 30_000 });
    await page.locator("tr", { hasText: title }).waitFor({ timeout: 60_000 });
  });

  it("answers /v1/invites only to the DID's own one-use request", async () => {
    const base = new URL(link).origin;
    const { did: peerDid } = await (await fetch(`${base}/v1/identity`)).json();
    const ask = async (issuer: Signer, subject = issuer.did, audience = peerDid) => {
      const inv = await invoke({
        issuer,
        subject,
        audience,
        command: Commands.inviteRead,
        args: { method: "GET", path: "/v1/invites" },
        proofs: [],
        expiration: Math.floor(Date.now() / 1000) + 60,
      });
      return `Bearer ${await encodeContainer([inv.bytes], "C")}`;
    };
    const get = (authorization: string) => fetch(`${base}/v1/invites`, { headers: { authorization } });
    const stranger = await signerFromSeed(generateSeed());
    const bearer = await ask(stranger);
    const r = await get(bearer);
    assert.equal(r.status, 200);
    assert.deepEqual((await r.json()).invites, [], "a DID nobody invited gets nothing");
    assert.equal((await get(bearer)).status, 401, "a request works once");
    const browser = await second!.page.evaluate(() =>
      (globalThis as unknown as { weft: { node: { did: string } } }).weft.node.did
    );
    assert.notEqual((await get(await ask(stranger, browser))).status, 200, "nobody asks on another's behalf");
    assert.notEqual((await get(await ask(stranger, stranger.did, stranger.did))).status, 200, "addressed to this peer");
    assert.equal((await fetch(`${base}/v1/invites`)).status, 401);
  });

  it("weft pair mints another link from the peer's side (POST /v1/pairings), also good once", async () => {
    const fresh = await weft(peer, "pair");
    assert.match(fresh, /^http:\/\/127\.0\.0\.1:\d+\/#\/pair\?code=[A-Za-z0-9_-]{43}$/);
    const code = new URL(fresh.replace("/#/pair?", "/?")).searchParams.get("code");
    const pair = () =>
      fetch(new URL("/v1/pair", fresh), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code, audience: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" }),
      });
    const first = await pair();
    assert.equal(first.status, 201);
    assert.ok((await first.json()).invites.length >= 1);
    assert.equal((await pair()).status, 401);
    const anonymous = await fetch(new URL("/v1/pairings", fresh), { method: "POST" });
    assert.equal(anonymous.status, 401, "only node admins mint pairing links");
  });
});
