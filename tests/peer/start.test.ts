import { it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { eventually } from "../helpers/nodes.ts";

const main = new URL("../../peer/main.ts", import.meta.url).pathname;

async function startAndStop(home: string): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, WEFT_HOME: home, WEFT_HTTP_PORT: "0", WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await eventually(() => out.includes("  p2p "), 20_000, "started");
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  return { out, code };
}

it("npm start runs a peer on embedded defaults, keeps its identity across restarts, exits 0 on SIGINT", async () => {
  const home = await mkdtemp(join(tmpdir(), "weft-home-"));
  try {
    const first = await startAndStop(home);
    const did = first.out.match(/Weft peer (did:key:z6Mk\w+)/)?.[1];
    assert.ok(did, first.out);
    assert.match(first.out, /dashboard\s+http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(first.out, /admin token/);
    assert.equal(first.code, 0);
    assert.equal((await stat(join(home, "keys", "node.json"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(home, "cli.json"))).mode & 0o777, 0o600);
    const second = await startAndStop(home);
    assert.ok(second.out.includes(did), "the same identity after a restart");
    assert.equal(second.code, 0);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
