/**
 * The relay exactly as deploy/relay/README.md documents it, across three
 * processes: a relay started with the README's Node command line, and two
 * peers (`npm start`'s entry point) that never connect to each other. Each
 * member runs `weft join ws://…/v1/sync` (the second with the invite the
 * first made for it with `weft space invite --to`), and a task filed on one
 * peer reaches the other through the relay.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { eventually } from "../helpers/nodes.ts";

const RELAY = new URL("../../peer/relay/node.ts", import.meta.url).pathname;

describe("the relay as deploy/relay/README.md documents it", { timeout: 180_000 }, () => {
  let relay: ChildProcess;
  let relayHome: string;
  let relayOut = "";
  let syncUrl: string;
  let a: PeerProcess;
  let b: PeerProcess;

  before(async () => {
    relayHome = await mkdtemp(join(tmpdir(), "weft-relay-home-"));
    // README: `WEFT_HOME=/var/lib/weft-relay WEFT_HTTP_HOST=0.0.0.0 node peer/relay/node.ts` (here on loopback, any port).
    relay = spawn(process.execPath, [RELAY], {
      env: { ...process.env, WEFT_HOME: relayHome, WEFT_HTTP_HOST: "127.0.0.1", WEFT_HTTP_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    relay.stdout!.on("data", (d) => (relayOut += d));
    relay.stderr!.on("data", (d) => (relayOut += d));
    await eventually(() => /sync\s+ws:\/\/\S+/.test(relayOut), 30_000, "relay started");
    syncUrl = /sync\s+(ws:\/\/\S+)/.exec(relayOut)![1];
    [a, b] = await Promise.all([startPeer(), startPeer()]);
  });

  after(async () => {
    await Promise.all([a && stopPeer(a), b && stopPeer(b)]);
    if (relay && relay.exitCode === null) {
      relay.kill("SIGTERM");
      await new Promise((r) => relay.once("exit", r));
    }
    await rm(relayHome, { recursive: true, force: true });
  });

  it("carries a space between two members who only ever meet at the relay", async () => {
    await weft(a, "join", syncUrl);
    const space = JSON.parse(await weft(a, "space", "list", "--json")).spaces[0].id as string;
    const invite = await weft(a, "space", "invite", "--to", await weft(b, "id"));
    const joined = JSON.parse(await weft(b, "join", syncUrl, "--invite", invite, "--json"));
    assert.equal(joined.id, space);
    const title = `filed on a ${Date.now()}`;
    const task = JSON.parse(await weft(a, "task", "add", title, "--space", space, "--json")).id as string;
    await eventually(
      async () => (await weft(b, "task", "list", "--space", space)).includes(task.slice(0, 8)),
      30_000,
      "a's task reached b through the relay",
    );
    const back = JSON.parse(await weft(b, "task", "add", "filed on b", "--space", space, "--json")).id as string;
    await eventually(
      async () => (await weft(a, "task", "list", "--space", space)).includes(back.slice(0, 8)),
      30_000,
      "b's task reached a through the relay",
    );
    assert.deepEqual(JSON.parse(await weft(a, "peers", "--json")).peers, [], "a never dialed b over libp2p");
    assert.doesNotMatch(a.out + b.out, /space\/host-failed/);
  });
});
