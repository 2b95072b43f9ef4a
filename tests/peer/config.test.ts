import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultToml, loadConfig } from "../../peer/daemon/config.ts";

async function withToml(
  toml: string | undefined,
  env: Record<string, string>,
  fn: (load: () => ReturnType<typeof loadConfig>) => Promise<void>,
) {
  const home = await mkdtemp(join(tmpdir(), "weft-config-"));
  try {
    if (toml !== undefined) await writeFile(join(home, "weft.toml"), toml);
    await fn(() => loadConfig({ WEFT_HOME: home, ...env }));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

describe("configuration", () => {
  it("embedded defaults, then weft.toml, then WEFT_* environment", () =>
    withToml('[http]\nport = 8000\n[log]\nlevel = "debug"\n', { WEFT_HTTP_PORT: "9000" }, async (load) => {
      const c = await load();
      assert.equal(c.http.port, 9000);
      assert.equal(c.http.host, "127.0.0.1");
      assert.equal(c.log.level, "debug");
      assert.deepEqual(c.p2p.listen, ["/ip4/127.0.0.1/tcp/7778", "/ip4/127.0.0.1/tcp/7779/ws"]);
    }));

  it("the written default file parses back to the defaults", () =>
    withToml(defaultToml("box"), {}, async (load) => {
      const c = await load();
      assert.equal(c.name, "box");
      assert.equal(c.http.port, 7777);
      assert.deepEqual(c.agents, { run: [], leaseSeconds: 60 });
    }));

  it("[agents]: the agents whose loops start with the peer, and their lease", () =>
    withToml('[agents]\nrun = ["ada", "bob-2", "ada"]\nlease_seconds = 20\n', {}, async (load) => {
      assert.deepEqual((await load()).agents, { run: ["ada", "bob-2"], leaseSeconds: 20 });
    }));

  const bad: Array<[string, string | undefined, Record<string, string>, RegExp]> = [
    ["an unknown key", "[http]\npotr = 1\n", {}, /weft\.toml: http\.potr is not a known setting/],
    ["an unknown section", "[htp]\nport = 1\n", {}, /weft\.toml: htp is not a known setting/],
    ["a port out of range", "[http]\nport = 70000\n", {}, /http\.port must be an integer from 0 to 65535/],
    ["a wrong type", '[http]\nport = "eighty"\n', {}, /http\.port must be an integer/],
    ["a bad level", '[log]\nlevel = "loud"\n', {}, /log\.level must be one of debug, info, warn, error/],
    [
      "a bad address",
      '[p2p]\nbootstrap = ["example.com:80"]\n',
      {},
      /p2p\.bootstrap\[0\] must be a multiaddr or a ws:\/\/ URL/,
    ],
    ["broken TOML", "[http\nport = 1", {}, /is not valid TOML/],
    ["a bad agent name", '[agents]\nrun = ["Ada!"]\n', {}, /agents\.run\[0\] must be an agent's name/],
    ["an agent lease too short", "[agents]\nlease_seconds = 1\n", {}, /agents\.lease_seconds must be an integer/],
    ["a bad env var", undefined, { WEFT_HTTP_PORT: "-1" }, /environment: WEFT_HTTP_PORT must be an integer/],
    ["an unknown env var", undefined, { WEFT_HTPP_PORT: "1" }, /environment: WEFT_HTPP_PORT is not a known setting/],
  ];
  for (const [what, toml, env, message] of bad) {
    it(`refuses ${what}, naming the key`, () =>
      withToml(toml, env, async (load) => {
        await assert.rejects(load(), (e: Error & { code?: string }) => {
          assert.equal(e.code, "config/invalid");
          assert.match(e.message, message);
          return true;
        });
      }));
  }
});
