/**
 * A peer started with `[llm]` in its weft.toml runs the router, and its
 * /metrics (the daemon's one Prometheus endpoint) carries the router's
 * calls, tokens, cost, fallbacks and latency next to the node's own,
 * after a real call to node-llama-cpp (a generated random-weight model).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Daemon, startDaemon } from "../../peer/daemon/daemon.ts";
import { loadConfig } from "../../peer/daemon/config.ts";
import { createLogger } from "../../peer/daemon/logger.ts";
import { type LlamaServer, startLlamaServer } from "../helpers/llama-openai-server.ts";
import { writeTinyLlamaModel } from "../helpers/tiny-llama-model.ts";
import { closedPort } from "../helpers/llm.ts";

describe("the daemon's LLM router and its metrics", () => {
  let engine: LlamaServer;
  let modelPath: string;
  let home: string;
  let daemon: Daemon;
  before(async () => {
    modelPath = await writeTinyLlamaModel();
    engine = await startLlamaServer(modelPath);
    home = await mkdtemp(join(tmpdir(), "weft-llm-daemon-"));
    await writeFile(
      join(home, "weft.toml"),
      `
[llm]
[llm.providers.down]
api = "openai"
url = "http://127.0.0.1:${await closedPort()}/v1"
[llm.providers.engine]
api = "openai"
url = "${engine.url}"
[llm.routes]
default = ["down/tiny", "engine/tiny"]
[llm.prices."engine/tiny"]
input = 1
output = 2
`,
    );
    const config = await loadConfig({
      WEFT_HOME: home,
      WEFT_HTTP_PORT: "0",
      WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
      WEFT_LOG_LEVEL: "error",
    });
    daemon = await startDaemon(config, createLogger("error", () => {}));
  });
  after(async () => {
    await daemon?.stop();
    await engine.close();
    await rm(home, { recursive: true, force: true });
    await rm(dirname(modelPath), { recursive: true, force: true });
  });

  it("serves the router's calls, tokens, cost, fallbacks and latency on /metrics", async () => {
    const result = await daemon.llm!.router.call({
      taskKind: "code",
      messages: [{ role: "user", content: "hello" }],
      maxOutputTokens: 6,
    });
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(text, /^weft_peers \d+$/m, "the node's own metrics are still there");
    assert.match(text, /^weft_llm_calls_total\{provider="engine",model="tiny",outcome="ok"\} 1$/m);
    assert.match(text, /^weft_llm_calls_total\{provider="down",model="tiny",outcome="llm\/unreachable"\} 1$/m);
    assert.match(text, /^weft_llm_tokens_total\{provider="engine",model="tiny",direction="output"\} 6$/m);
    assert.match(
      text,
      new RegExp(`^weft_llm_cost_micro_usd_total\\{provider="engine",model="tiny"\\} ${result.costMicroUsd}$`, "m"),
    );
    assert.match(
      text,
      /^weft_llm_fallbacks_total\{from="down\/tiny",to="engine\/tiny",reason="llm\/unreachable"\} 1$/m,
    );
    assert.match(text, /^weft_llm_call_seconds_bucket\{provider="engine",model="tiny",le="\+Inf"\} 1$/m);
    assert.match(text, /^# TYPE weft_llm_call_seconds histogram$/m);
  });
});
