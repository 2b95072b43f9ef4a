/**
 * The router against a real inference engine: node-llama-cpp running a
 * generated random-weight model (tests/helpers/tiny-llama-model.ts; its
 * text is meaningless) behind an OpenAI-compatible route on loopback.
 * Streaming, token counts and cost, a timeout, fallback when a provider is
 * down, and a budget that runs out: the stream is cut at what the
 * reservation pays for, then the next call is refused before any request.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isWeftError } from "#protocol";
import { inputTokensBound } from "#protocol/llm";
import { startLlm } from "../../peer/llm/start.ts";
import { type LlamaServer, startLlamaServer } from "../helpers/llama-openai-server.ts";
import { writeTinyLlamaModel } from "../helpers/tiny-llama-model.ts";
import { closedPort, hangingServer, InMemoryBudget, llmSettings } from "../helpers/llm.ts";

const messages = [{ role: "user" as const, content: "hello world" }];

describe("LLM router with node-llama-cpp (a generated random-weight model)", () => {
  let engine: LlamaServer;
  let modelPath: string;
  let keysDir: string;
  const toml = (extra = "", route = `["engine/tiny"]`) => `
[llm]
max_retries = 0
[llm.providers.engine]
api = "openai"
url = "${engine.url}"
${extra}
[llm.routes]
default = ${route}
[llm.prices."engine/tiny"]
input = 1
output = 100
`;
  before(async () => {
    modelPath = await writeTinyLlamaModel();
    engine = await startLlamaServer(modelPath);
    keysDir = await mkdtemp(join(tmpdir(), "weft-llm-keys-"));
  });
  after(async () => {
    await engine.close();
    await rm(dirname(modelPath), { recursive: true, force: true });
    await rm(keysDir, { recursive: true, force: true });
  });

  it("streams the answer piece by piece, with the engine's token counts and the cost they make", async () => {
    const { router, metrics } = await startLlm(llmSettings(toml()), { env: {}, keysDir });
    const pieces: string[] = [];
    const result = await router.call({ taskKind: "code", messages, maxOutputTokens: 12 }, {
      onText: (t) => pieces.push(t),
    });
    assert.ok(pieces.length >= 2, `streamed in ${pieces.length} pieces`);
    assert.equal(pieces.join(""), result.text);
    assert.equal(result.usage.outputTokens, 12);
    assert.ok(result.usage.inputTokens > 0 && result.usage.inputTokens < inputTokensBound(messages));
    assert.equal(result.costMicroUsd, result.usage.inputTokens * 1 + 12 * 100);
    assert.equal(result.provider, "engine");
    assert.equal(result.stopReason, "length");
    const again = await router.call({ taskKind: "code", messages, maxOutputTokens: 12 });
    assert.equal(again.text, result.text, "greedy sampling is deterministic");
    const text = metrics.render();
    assert.match(text, /weft_llm_calls_total\{provider="engine",model="tiny",outcome="ok"\} 2/);
    assert.match(text, /weft_llm_tokens_total\{provider="engine",model="tiny",direction="output"\} 24/);
    assert.match(
      text,
      new RegExp(`weft_llm_cost_micro_usd_total\\{provider="engine",model="tiny"\\} ${2 * result.costMicroUsd}`),
    );
    assert.match(text, /weft_llm_call_seconds_count\{provider="engine",model="tiny"\} 2/);
  });

  it("falls back from a provider that is down (a closed port) and skips it while it cools down", async () => {
    const port = await closedPort();
    const settings = llmSettings(`
[llm]
[llm.providers.down]
api = "openai"
url = "http://127.0.0.1:${port}/v1"
[llm.providers.engine]
api = "openai"
url = "${engine.url}"
[llm.routes]
default = ["down/tiny", "engine/tiny"]
`);
    const { router, metrics } = await startLlm(settings, { env: {}, keysDir });
    const first = await router.call({ taskKind: "code", messages, maxOutputTokens: 4 });
    assert.equal(first.provider, "engine");
    assert.deepEqual(first.attempts.map((a) => [a.provider, a.outcome]), [["down", "llm/unreachable"], [
      "engine",
      "ok",
    ]]);
    assert.equal(first.attempts[0].costMicroUsd, 0);
    const second = await router.call({ taskKind: "code", messages, maxOutputTokens: 4 });
    assert.deepEqual(second.attempts.map((a) => a.provider), ["engine"], "the down provider is cooling down");
    assert.match(
      metrics.render(),
      /weft_llm_fallbacks_total\{from="down\/tiny",to="engine\/tiny",reason="llm\/unreachable"\} 1/,
    );
  });

  it("times out a provider that never answers, then falls back", async () => {
    const hanging = await hangingServer();
    try {
      const settings = llmSettings(`
[llm]
[llm.providers.hangs]
api = "openai"
url = "http://127.0.0.1:${hanging.port}/v1"
timeout_seconds = 1
[llm.providers.engine]
api = "openai"
url = "${engine.url}"
[llm.routes]
default = ["hangs/tiny", "engine/tiny"]
`);
      const { router } = await startLlm(settings, { env: {}, keysDir });
      const result = await router.call({ taskKind: "code", messages, maxOutputTokens: 3 });
      assert.deepEqual(result.attempts.map((a) => a.outcome), ["llm/timeout", "ok"]);
      assert.ok(result.attempts[0].latencyMs >= 1000);
      const alone =
        (await startLlm({ ...settings, routes: { default: [settings.routes.default[0]] } }, { env: {}, keysDir }))
          .router;
      await assert.rejects(
        alone.call({ taskKind: "code", messages, maxOutputTokens: 3 }),
        (e) => isWeftError(e, "llm/timeout"),
      );
    } finally {
      await hanging.close();
    }
  });

  it("cuts the stream at what the budget's reservation pays for, then refuses the next call before sending it", async () => {
    const inputCost = inputTokensBound(messages) * 1;
    const budget = new InMemoryBudget(inputCost + 5 * 100);
    const { withBudget } = await startLlm(llmSettings(toml()), { env: {}, keysDir });
    const router = withBudget(budget);
    const result = await router.call({ taskKind: "code", messages, maxOutputTokens: 50 });
    assert.equal(result.usage.outputTokens, 5, "the reservation paid for five output tokens");
    assert.equal(budget.reserves[0].maxCostMicroUsd, inputCost + 50 * 100, "it asked for the call's maximum");
    assert.deepEqual(budget.settles.map((s) => s.actual), [result.costMicroUsd]);
    assert.ok(budget.spent <= budget.limitMicroUsd && budget.reserved === 0);
    const before = engine.requests();
    await assert.rejects(
      router.call({ taskKind: "code", messages, maxOutputTokens: 50 }),
      (e) => isWeftError(e, "llm/budget-exhausted"),
    );
    assert.equal(engine.requests(), before, "no request reached the engine");
    assert.ok(budget.spent <= budget.limitMicroUsd && budget.reserved === 0);
  });

  it("counts reservations in flight: two concurrent calls with a budget for one never both run", async () => {
    const oneCall = inputTokensBound(messages) * 1 + 8 * 100;
    const budget = new InMemoryBudget(oneCall);
    const router = (await startLlm(llmSettings(toml()), { env: {}, keysDir })).withBudget(budget);
    const results = await Promise.allSettled([
      router.call({ taskKind: "code", messages, maxOutputTokens: 8 }),
      router.call({ taskKind: "code", messages, maxOutputTokens: 8 }),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(isWeftError(refused.reason, "llm/budget-exhausted"));
    assert.ok(budget.spent <= oneCall);
  });

  it("stops a call when its caller aborts (an agent paused), settling what it cost", async () => {
    const budget = new InMemoryBudget(1_000_000);
    const router = (await startLlm(llmSettings(toml()), { env: {}, keysDir })).withBudget(budget);
    const stop = new AbortController();
    let pieces = 0;
    await assert.rejects(
      router.call({ taskKind: "code", messages, maxOutputTokens: 200 }, {
        signal: stop.signal,
        onText: () => ++pieces === 2 && stop.abort(),
      }),
      (e) => isWeftError(e, "llm/cancelled"),
    );
    assert.equal(budget.settles.length, 1);
    assert.ok(budget.settles[0].usage.outputTokens >= 2 && budget.settles[0].usage.outputTokens < 200);
    assert.equal(budget.reserved, 0);
  });

  it("refuses a prompt longer than the context as context-too-long, without falling back to a smaller model", async () => {
    const { router } = await startLlm(llmSettings(toml()), { env: {}, keysDir });
    const long = [{ role: "user" as const, content: "the ".repeat(600) }];
    await assert.rejects(router.call({ taskKind: "code", messages: long, maxOutputTokens: 4 }), (e) => {
      assert.ok(isWeftError(e, "llm/context-too-long"), String(e));
      return true;
    });
  });
});
