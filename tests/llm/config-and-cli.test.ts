/**
 * `[llm]` in weft.toml (each mistake refused naming its key; a key written
 * into the file refused as a secret), and the CLI a user checks it with:
 * `weft llm test` making one tiny call per provider against node-llama-cpp
 * (a generated random-weight model behind an OpenAI-compatible route) and a
 * provider that is down, and `weft llm key` storing a key (0600) that the
 * Anthropic client then sends, against a scripted server speaking that API.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { loadConfig } from "../../peer/daemon/config.ts";
import { type LlamaServer, startLlamaServer } from "../helpers/llama-openai-server.ts";
import { writeTinyLlamaModel } from "../helpers/tiny-llama-model.ts";
import { startAnthropicSseServer } from "../helpers/anthropic-sse-server.ts";
import { closedPort } from "../helpers/llm.ts";

const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

function weft(home: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, WEFT_HOME: home } },
      (e, stdout, stderr) => resolve({ code: e ? (e as { code?: number }).code ?? 1 : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? "");
  });
}

describe("[llm] configuration and `weft llm`", () => {
  let home: string;
  let engine: LlamaServer;
  let modelPath: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "weft-llm-home-"));
    modelPath = await writeTinyLlamaModel();
    engine = await startLlamaServer(modelPath);
  });
  after(async () => {
    await engine.close();
    await rm(home, { recursive: true, force: true });
    await rm(dirname(modelPath), { recursive: true, force: true });
  });

  const load = async (toml: string) => {
    await writeFile(join(home, "weft.toml"), toml);
    return loadConfig({ WEFT_HOME: home });
  };

  it("reads providers, local-first routes and prices (micro-USD per token as integer nano-USD)", async () => {
    const c = await load(`
[llm]
cooldown_seconds = 5
[llm.providers.ollama]
api = "openai"
url = "http://127.0.0.1:11434/v1"
[llm.providers.claude]
api = "anthropic"
url = "https://api.anthropic.com"
key_env = "ANTHROPIC_API_KEY"
context_tokens = 200000
[llm.routes]
default = ["claude/claude-sonnet-4-5", "ollama/qwen2.5-coder:7b"]
[llm.prices."claude/claude-sonnet-4-5"]
input = 3
output = 15.125
`);
    assert.deepEqual(c.llm!.providers.map((p) => [p.name, p.local, p.key]), [
      ["ollama", true, undefined],
      ["claude", false, { env: "ANTHROPIC_API_KEY" }],
    ]);
    assert.deepEqual(c.llm!.prices["claude/claude-sonnet-4-5"], { inputNanoUsd: 3000, outputNanoUsd: 15125 });
    assert.equal(c.llm!.cooldownMs, 5000);
    assert.equal(c.llm!.localFirst, true);
  });

  const provider = `[llm.providers.p]\napi = "openai"\nurl = "https://api.example.com/v1"\n`;
  const bad: Array<[string, string, RegExp]> = [
    [
      "a key in the file",
      `[llm]\n${provider}api_key = "sk-123"\n[llm.routes]\ndefault = ["p/m"]\n`,
      /llm\.providers\.p\.api_key looks like a secret/,
    ],
    [
      "an unknown provider in a route",
      `[llm]\n${provider}[llm.routes]\ndefault = ["q/m"]\n`,
      /llm\.routes\.default\[0\] names provider q/,
    ],
    [
      "a cloud model without a price",
      `[llm]\n${provider}[llm.routes]\ndefault = ["p/m"]\n`,
      /llm\.prices\."p\/m" is required/,
    ],
    ["no default route", `[llm]\n${provider}[llm.routes]\nreview = ["p/m"]\n`, /llm\.routes\.default must list/],
    [
      "an unknown api",
      `[llm]\n[llm.providers.p]\napi = "grpc"\nurl = "http://x"\n`,
      /llm\.providers\.p\.api must be openai or anthropic/,
    ],
    [
      "a price finer than a thousandth of a micro-USD",
      `[llm]\n${provider}[llm.routes]\ndefault = ["p/m"]\n[llm.prices."p/m"]\ninput = 0.0001\noutput = 1\n`,
      /at most three decimals/,
    ],
  ];
  for (const [what, toml, error] of bad) {
    it(`refuses ${what}, naming the key`, () => assert.rejects(load(toml), error));
  }

  it("`weft llm test` makes one tiny call per provider: tokens and cost, or the failure and exit 69", async () => {
    await writeFile(
      join(home, "weft.toml"),
      `
[llm]
[llm.providers.engine]
api = "openai"
url = "${engine.url}"
[llm.providers.down]
api = "openai"
url = "http://127.0.0.1:${await closedPort()}/v1"
[llm.routes]
default = ["engine/tiny", "down/tiny"]
[llm.prices."engine/tiny"]
input = 2
output = 3
`,
    );
    const one = await weft(home, ["llm", "test", "--provider", "engine", "--json"]);
    assert.equal(one.code, 0, one.stderr);
    const [r] = JSON.parse(one.stdout);
    assert.equal(r.ok, true);
    assert.equal(r.outputTokens, 8);
    assert.equal(r.costMicroUsd, r.inputTokens * 2 + 8 * 3);
    const both = await weft(home, ["llm", "test"]);
    assert.equal(both.code, 69);
    assert.match(both.stdout, /^ok {4}engine\/tiny: \d+ in \+ 8 out tokens, \$0\.0000\d\d, \d+ ms/m);
    assert.match(both.stdout, /^FAIL {2}down\/tiny: llm\/unreachable: down is unreachable/m);
  });

  it("`weft llm key` stores a key (0600) that a provider's key_keystore sends", async () => {
    const api = await startAnthropicSseServer([{ text: ["ok"], inputTokens: 4, outputTokens: 1 }]);
    try {
      const stored = await weft(home, ["llm", "key", "claude"], "sk-ant-stored-key-abcdefghijk\n");
      assert.equal(stored.code, 0, stored.stderr);
      assert.equal((await stat(join(home, "keys", "claude.api-key"))).mode & 0o777, 0o600);
      await writeFile(
        join(home, "weft.toml"),
        `
[llm]
[llm.providers.claude]
api = "anthropic"
url = "${api.url}"
local = false
key_keystore = "claude"
[llm.routes]
default = ["claude/claude-haiku-4-5"]
[llm.prices."claude/claude-haiku-4-5"]
input = 1
output = 5
`,
      );
      const checked = await weft(home, ["llm", "test", "--json"]);
      assert.equal(checked.code, 0, checked.stderr);
      assert.equal(api.requests[0].headers["x-api-key"], "sk-ant-stored-key-abcdefghijk");
      assert.ok(!checked.stdout.includes("sk-ant-stored"));
      // A key file others can read is refused, as ssh refuses one.
      await chmod(join(home, "keys", "claude.api-key"), 0o644);
      const refused = await weft(home, ["llm", "test"]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /readable by other users .*chmod 600/);
      assert.equal(api.requests.length, 1, "nothing was sent with it");
    } finally {
      await api.close();
    }
  });
});
