/**
 * The daemon and the relay under Deno: the same entry points, started as
 * Deno processes, serve the CLI (run on Node) and relay between members.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import process from "node:process";
import { createNode } from "../../protocol/node/node.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { toBase64Url } from "../../protocol/bytes.ts";
import { WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { eventually, memoryKeystore } from "../helpers/nodes.ts";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const DENO = join(root, "node_modules/.bin/deno");
const CLI = join(root, "peer/cli/weft.js");

function deno(script: string, env: Record<string, string>): { child: ChildProcess; out: () => string } {
  let out = "";
  const child = spawn(DENO, ["run", "-A", join(root, script)], {
    env: {
      ...process.env,
      CBOR_NATIVE_ACCELERATION_DISABLED: "true",
      WEFT_HTTP_PORT: "0",
      WEFT_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, out: () => out };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  return await new Promise((r) => child.once("exit", (c) => r(c)));
}

describe("under Deno", () => {
  it("the daemon serves the CLI and stops cleanly", async () => {
    const home = await mkdtemp(join(tmpdir(), "weft-deno-"));
    const d = deno("peer/main.ts", { WEFT_HOME: home, WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0" });
    try {
      await eventually(() => d.out().includes("  p2p "), 60_000, "deno daemon started");
      const env = { ...process.env, WEFT_HOME: home };
      const created = JSON.parse(
        (await run(process.execPath, [CLI, "task", "add", "made on deno", "--json"], { env })).stdout,
      );
      const listed = (await run(process.execPath, [CLI, "task", "list"], { env })).stdout;
      assert.ok(listed.includes(created.id.slice(0, 8)), listed);
      assert.equal(await stop(d.child), 0);
    } finally {
      await stop(d.child);
      await rm(home, { recursive: true, force: true });
    }
  });

  it("the relay carries a space between members", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-deno-relay-"));
    const r = deno("peer/relay/deno.ts", {
      WEFT_RELAY_KEY: toBase64Url(generateSeed()),
      WEFT_RELAY_KV: join(dir, "kv.sqlite"),
    });
    const members = await Promise.all([0, 1].map(async () => {
      const node = await createNode({ signer: nativeSigner(generateSeed()), keystore: memoryKeystore() });
      return { node, ws: node.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 })) };
    }));
    try {
      const url = await eventually(() => /sync\s+(ws:\/\/\S+)/.exec(r.out())?.[1], 60_000, "deno relay started");
      for (const m of members) m.ws.connectTo(url!, { carrier: true });
      const [a, b] = members.map((m) => m.node);
      const space = await a.createSpace("over deno");
      await new Promise((res) => setTimeout(res, 500));
      const joined = await b.join(await a.invite(space.id, { audience: b.did }), {
        signal: AbortSignal.timeout(30_000),
      });
      const t = await space.createTask({ title: "relayed by deno" });
      await eventually(() => joined.task(t.id), 20_000, "task through the deno relay");
    } finally {
      for (const m of members) await m.node.stop();
      await stop(r.child);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
