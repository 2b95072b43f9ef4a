/**
 * The `[runners.<kind>]` tables of weft.toml, read by a real daemon: unknown
 * kinds and bad settings are refused naming the key, a kind can be turned
 * off, and what a runner advertises beside its kind reaches the advert.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../peer/daemon/config.ts";
import { startDaemon } from "../../peer/daemon/daemon.ts";
import { createLogger } from "../../peer/daemon/logger.ts";

async function withHome<T>(toml: string, fn: (home: string, load: () => Promise<Config>) => Promise<T>): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), "weft-runners-config-"));
  try {
    await writeFile(join(home, "weft.toml"), toml);
    return await fn(home, () =>
      loadConfig({
        WEFT_HOME: home,
        WEFT_HTTP_PORT: "0",
        WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
        WEFT_SLOTS: "1",
      }));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Start a daemon on `config`, hand over its advert and what it logged, and stop it. */
async function advertOf(config: Config) {
  const lines: string[] = [];
  const daemon = await startDaemon(config, createLogger("debug", (l) => void lines.push(l)));
  try {
    await daemon.runs.advertised;
    return { advert: daemon.runs.capacity.current(), lines };
  } finally {
    await daemon.stop();
  }
}

/** The nix runner (bridges/nix) off, so these cases see the wasm runner alone; tests/nix covers nix's advert. */
const NIX_OFF = "[runners.nix]\nenabled = false\n";
const CONTAINER_OFF = "[runners.container]\nenabled = false\n";

describe("[runners.<kind>] in weft.toml", () => {
  const bad: Array<[string, string, RegExp]> = [
    [
      "an unknown kind, naming the known ones",
      "[runners.nixx]\n",
      /weft\.toml: runners\.nixx is not a known runner kind \(known: wasm, nix, container\)/,
    ],
    ["runners that is not a table", "runners = 3\n", /weft\.toml: runners must be a table/],
    [
      "enabled that is not a boolean",
      '[runners.wasm]\nenabled = "no"\n',
      /runners\.wasm\.enabled must be true or false/,
    ],
    [
      "an unknown setting of a kind",
      "[runners.wasm]\nheap = 1\n",
      /weft\.toml: runners\.wasm\.heap is not a known setting/,
    ],
    [
      "a bad value",
      "[runners.wasm]\nheap_mb = 1\n",
      /weft\.toml: runners\.wasm\.heap_mb must be an integer from 16 to 4096/,
    ],
  ];
  for (const [what, toml, message] of bad) {
    it(`refuses ${what}`, () =>
      withHome(toml, async (_home, load) => {
        await assert.rejects(load(), (e: Error & { code?: string }) => {
          assert.equal(e.code, "config/invalid");
          assert.match(e.message, message);
          return true;
        });
      }));
  }

  it("fills in defaults, and reads a kind's settings", async () => {
    await withHome("", async (_home, load) => {
      const [wasm] = (await load()).runners;
      assert.deepEqual([wasm.plugin.kind, wasm.enabled, wasm.config], ["wasm", true, { warm: true, heapMb: 128 }]);
    });
    await withHome("[runners.wasm]\nwarm = false\nheap_mb = 256\n", async (_home, load) => {
      const [wasm] = (await load()).runners;
      assert.deepEqual(wasm.config, { warm: false, heapMb: 256 });
    });
  });

  // The nix and container runners are turned off in these two: what is advertised is then the wasm runner's alone.
  it("a daemon advertises each runner it created, with what the runner says about itself", () =>
    withHome(NIX_OFF + CONTAINER_OFF, async (_home, load) => {
      const { advert } = await advertOf(await load());
      assert.deepEqual(advert?.runners, ["wasm"]);
      assert.deepEqual(advert?.runnerDetails, { wasm: { sandbox: "node subprocess" } });
      assert.equal(advert?.slots, 1);
    }));

  it("a kind turned off is not created, and the daemon says why", () =>
    withHome("[runners.wasm]\nenabled = false\n" + NIX_OFF + CONTAINER_OFF, async (_home, load) => {
      const { advert, lines } = await advertOf(await load());
      assert.deepEqual(advert?.runners, []);
      assert.equal(advert?.runnerDetails, undefined);
      assert.equal(advert?.slots, 0);
      assert.ok(lines.some((l) => l.includes("runners.wasm.enabled = false")), lines.join(""));
      assert.ok(lines.some((l) => l.includes("this peer runs no jobs")), lines.join(""));
    }));
});
