/**
 * The daemon's parts and the bridges weft.toml names: `[bridges.<name>]`
 * tables are checked when the config loads (an unknown bridge is refused
 * with the known ones, a bad setting with its key), and a daemon whose part
 * fails to start says which part and stops what it had started, leaving
 * the data dir to start cleanly afterwards.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../peer/daemon/config.ts";
import { startDaemon } from "../../peer/daemon/daemon.ts";
import { createLogger } from "../../peer/daemon/logger.ts";
import { Lifecycle } from "../../peer/daemon/lifecycle.ts";

async function withHome(toml: string, fn: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "weft-lifecycle-"));
  try {
    await writeFile(join(home, "weft.toml"), toml);
    await fn(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const env = (home: string, port = "0") => ({
  WEFT_HOME: home,
  WEFT_HTTP_PORT: port,
  WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
});

describe("bridges in weft.toml", () => {
  it("reads a known bridge and its settings", () =>
    withHome('[bridges.example]\nlabel = "bot:seen"\n', async (home) => {
      const c = await loadConfig(env(home));
      assert.deepEqual(c.bridges.map((b) => [b.name, b.config]), [["example", { label: "bot:seen" }]]);
    }));

  const bad: Array<[string, string, RegExp]> = [
    [
      "an unknown bridge",
      "[bridges.gitlab]\n",
      /bridges\.gitlab is not a known bridge \(known: example, radicle, nostr, kubernetes\)/,
    ],
    ["a name that is no bridge", '[bridges."../x"]\n', /bridges\.\.\.\/x is not a known bridge/],
    ["a bridge that is not a table", "[bridges]\nexample = 1\n", /bridges\.example must be a table/],
    ["a bad setting", '[bridges.example]\nlabel = "two words"\n', /bridges\.example\.label must be a label/],
    ["an unknown setting", "[bridges.example]\nlabels = 1\n", /bridges\.example\.labels is not a setting/],
  ];
  for (const [what, toml, message] of bad) {
    it(`refuses ${what}`, () =>
      withHome(toml, async (home) => {
        await assert.rejects(loadConfig(env(home)), (e: Error & { code?: string }) => {
          assert.equal(e.code, "config/invalid");
          assert.match(e.message, message);
          return true;
        });
      }));
  }
});

describe("the daemon's start and stop order", () => {
  it("a part that cannot start names itself and stops what started before it", () =>
    withHome("[bridges.example]\n", async (home) => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const port = (taken.address() as { port: number }).port;
      const lines: Array<Record<string, unknown>> = [];
      try {
        const config = await loadConfig(env(home, String(port)));
        await assert.rejects(
          startDaemon(config, createLogger("info", (l) => lines.push(JSON.parse(l)))),
          (e: Error & { code?: string }) => {
            assert.equal(e.code, "daemon/start-failed");
            assert.match(e.message, /could not start the HTTP API: .*; the parts started before it were stopped again/);
            return true;
          },
        );
        assert.ok(lines.some((l) => l.msg === "created the personal space"), "parts before it did start");
        assert.equal(lines.some((l) => l.bridge === "example"), false, "parts after it never started");
      } finally {
        taken.close();
      }
      // What it had written is left usable: the same data dir starts, with its bridge, and stops cleanly.
      const daemon = await startDaemon(await loadConfig(env(home)), createLogger("error", () => {}));
      assert.equal(daemon.bridges.length, 1);
      await daemon.stop();
    }));

  it("stops parts in reverse; a part that fails to stop is reported by name and the others still stop", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const parts = new Lifecycle(createLogger("info", (l) => lines.push(JSON.parse(l))));
    const stopped: string[] = [];
    for (const name of ["storage", "node", "bridge"]) {
      await parts.start(name, () => name, (n) => {
        stopped.push(n);
        if (n === "node") throw new Error("the disk is full");
      });
    }
    assert.deepEqual(parts.parts, ["storage", "node", "bridge"]);
    await parts.stop();
    assert.deepEqual(stopped, ["bridge", "node", "storage"]);
    const failed = lines.find((l) => l.part === "node");
    assert.equal(failed?.msg, "could not stop node cleanly");
    assert.equal(failed?.error, "the disk is full");
    await parts.stop();
    assert.equal(stopped.length, 3, "stopping twice stops nothing twice");
    await assert.rejects(parts.start("late", () => 1), /could not start late: the daemon is stopping/);
  });
});
