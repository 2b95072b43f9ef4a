/**
 * The Radicle bridge's settings and start: each wrong `[bridges.radicle]`
 * value is refused naming its key, and a daemon whose bridge points at a
 * directory that is no Radicle repository fails to start, saying so.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { radicleBridge } from "../../../bridges/radicle/bridge.ts";
import { loadConfig } from "../../../peer/daemon/config.ts";
import { startDaemon } from "../../../peer/daemon/daemon.ts";
import { createLogger } from "../../../peer/daemon/logger.ts";

describe("radicle bridge settings", () => {
  it("refuses a wrong setting naming its key, and defaults the rest", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{}, /^repository must be the path of a Radicle repository/],
      [{ repository: "/r", colour: "red" }, /^colour is not a setting of the radicle bridge/],
      [{ repository: "/r", poll_ms: 5 }, /^poll_ms must be whole milliseconds/],
      [{ repository: "/r", alias: "a b" }, /^alias must be/],
      [{ repository: "/r", space: "" }, /^space must be a space id/],
      [{ repository: "/r", repo: "../up" }, /^repo must be the name of one of the space's repositories/],
      [{ repository: "/r", repo: 7 }, /^repo must be the name/],
    ];
    for (const [table, message] of bad) {
      assert.throws(() => radicleBridge.configure(table), (e: Error) => (assert.match(e.message, message), true));
    }
    assert.deepEqual(radicleBridge.configure({ repository: "/r" }), {
      repository: "/r",
      space: undefined,
      alias: "weft",
      pollMs: 1000,
      state: "/r/weft-radicle-bridge.json",
    });
    assert.equal(radicleBridge.configure({ repository: "/r", repo: "app" }).repo, "app");
  });

  it("a daemon whose bridge names no Radicle repository fails to start, saying so", { timeout: 60_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), "weft-radcfg-"));
    const notRadicle = await mkdtemp(join(tmpdir(), "weft-notrad-"));
    try {
      await writeFile(join(home, "weft.toml"), `[bridges.radicle]\nrepository = "${notRadicle}"\n`);
      const config = await loadConfig({
        WEFT_HOME: home,
        WEFT_HTTP_PORT: "0",
        WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
      });
      await assert.rejects(startDaemon(config, createLogger("error", () => {})), (e: Error & { code?: string }) => {
        assert.equal(e.code, "daemon/start-failed");
        assert.match(e.message, /is not a Radicle repository/);
        return true;
      });
    } finally {
      await rm(home, { recursive: true, force: true });
      await rm(notRadicle, { recursive: true, force: true });
    }
  });
});
