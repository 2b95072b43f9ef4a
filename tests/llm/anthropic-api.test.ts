/**
 * The router speaking Anthropic's Messages API, against a loopback server
 * speaking its SSE format from a script (tests/helpers/anthropic-sse-server.ts;
 * not a model): the request's shape, streamed text and token counts, and
 * each failure class handled as it should be: an overload retried, a rate
 * limit retried after its Retry-After, a bad request never sent to the
 * costlier fallback, refused credentials marking the provider down. An API
 * key echoed back in an error never reaches an error, a log line or a metric.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isWeftError } from "#protocol";
import { createLogger } from "../../peer/daemon/logger.ts";
import { startLlm } from "../../peer/llm/start.ts";
import {
  type AnthropicSseServer,
  type ScriptedAnswer,
  startAnthropicSseServer,
} from "../helpers/anthropic-sse-server.ts";
import { llmSettings } from "../helpers/llm.ts";

const KEY = "sk-ant-test-0123456789abcdefghijklmnop";
const messages = [
  { role: "system" as const, content: "be brief" },
  { role: "user" as const, content: "say ok" },
];

describe("Anthropic Messages API (a scripted server speaking its SSE format)", () => {
  let keysDir: string;
  const servers: AnthropicSseServer[] = [];
  before(async () => void (keysDir = await mkdtemp(join(tmpdir(), "weft-llm-keys-"))));
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(keysDir, { recursive: true, force: true });
  });

  async function routerFor(
    primary: ScriptedAnswer[],
    fallback: ScriptedAnswer[] = [],
    logs: string[] = [],
    route = `["claude/claude-haiku-4-5", "costlier/claude-opus-4-1"]`,
  ) {
    const [a, b] = [await startAnthropicSseServer(primary), await startAnthropicSseServer(fallback)];
    servers.push(a, b);
    const settings = llmSettings(`
[llm]
max_retries = 2
[llm.providers.claude]
api = "anthropic"
url = "${a.url}"
local = false
key_env = "TEST_ANTHROPIC_KEY"
[llm.providers.costlier]
api = "anthropic"
url = "${b.url}"
local = false
key_env = "TEST_ANTHROPIC_KEY"
[llm.routes]
default = ${route}
[llm.prices."claude/claude-haiku-4-5"]
input = 1
output = 5
[llm.prices."costlier/claude-opus-4-1"]
input = 15
output = 75
`);
    const log = createLogger("debug", (line) => void logs.push(line));
    // Backoff without jitter, so retries wait no longer than a Retry-After says.
    const llm = await startLlm(settings, { env: { TEST_ANTHROPIC_KEY: KEY }, keysDir }, log, { random: () => 0 });
    return { router: llm.router, metrics: llm.metrics, primary: a, fallback: b };
  }

  it("sends the Messages API's shape and reads its stream: text, input and output tokens, stop reason", async () => {
    const { router, primary } = await routerFor([{ text: ["o", "k"], inputTokens: 11, outputTokens: 2 }]);
    const pieces: string[] = [];
    const result = await router.call({ taskKind: "review", messages, maxOutputTokens: 64 }, {
      onText: (t) => pieces.push(t),
    });
    assert.deepEqual(pieces, ["o", "k"]);
    assert.deepEqual(result.usage, { inputTokens: 11, outputTokens: 2 });
    assert.equal(result.costMicroUsd, Math.ceil((11 * 1000 + 2 * 5000) / 1000));
    assert.equal(result.stopReason, "end_turn");
    const sent = primary.requests[0];
    assert.equal(sent.headers["x-api-key"], KEY);
    assert.equal(sent.headers["anthropic-version"], "2023-06-01");
    assert.deepEqual(sent.body, {
      model: "claude-haiku-4-5",
      max_tokens: 64,
      temperature: 0,
      system: "be brief",
      messages: [{ role: "user", content: "say ok" }],
      stream: true,
    });
  });

  it("retries an overloaded provider (529) and a rate limit after its Retry-After, on the same provider", async () => {
    const { router, fallback } = await routerFor([
      { status: 529, type: "overloaded_error", message: "Overloaded" },
      { status: 429, type: "rate_limit_error", message: "slow down", retryAfter: "0" },
      { text: ["fine"], inputTokens: 5, outputTokens: 1 },
    ]);
    const result = await router.call({ taskKind: "review", messages, maxOutputTokens: 8 });
    assert.equal(result.text, "fine");
    assert.deepEqual(result.attempts.map((a) => a.outcome), ["llm/overloaded", "llm/rate-limited", "ok"]);
    assert.equal(fallback.requests.length, 0);
  });

  it("never sends a bad request on to the costlier fallback", async () => {
    const { router, fallback } = await routerFor(
      [{ status: 400, type: "invalid_request_error", message: "messages: roles must alternate" }],
      [{ text: ["expensive"], inputTokens: 5, outputTokens: 1 }],
    );
    await assert.rejects(router.call({ taskKind: "review", messages, maxOutputTokens: 8 }), (e) => {
      assert.ok(isWeftError(e, "llm/bad-request"), String(e));
      assert.match((e as Error).message, /roles must alternate/);
      return true;
    });
    assert.equal(fallback.requests.length, 0);
  });

  it("marks a provider that refuses the key down, falls back, and never puts the key in an error, a log or a metric", async () => {
    const logs: string[] = [];
    const { router, metrics, primary, fallback } = await routerFor(
      [{ status: 401, type: "authentication_error", message: `invalid x-api-key: ${KEY}` }],
      [{ text: ["a"], inputTokens: 3, outputTokens: 1 }, { text: ["b"], inputTokens: 3, outputTokens: 1 }],
      logs,
    );
    const first = await router.call({ taskKind: "review", messages, maxOutputTokens: 8 });
    assert.equal(first.provider, "costlier");
    assert.deepEqual(first.attempts.map((a) => a.outcome), ["llm/auth", "ok"]);
    const second = await router.call({ taskKind: "review", messages, maxOutputTokens: 8 });
    assert.deepEqual(second.attempts.map((a) => a.provider), ["costlier"]);
    assert.equal(primary.requests.length, 1, "a provider whose key was refused is down until the key is fixed");
    // With nowhere to fall back to, the error itself: redacted.
    const alone = await routerFor(
      [{ status: 401, type: "authentication_error", message: `bad key ${KEY}` }],
      [],
      logs,
      `["claude/claude-haiku-4-5"]`,
    );
    const error = await alone.router.call({ taskKind: "review", messages, maxOutputTokens: 8 }).catch((e) => e);
    assert.ok(isWeftError(error, "llm/auth"), String(error));
    assert.match(error.message, /\[redacted\]/);
    const everything = [
      error.message,
      String((error.cause as Error | undefined)?.message),
      ...logs,
      metrics.render(),
      alone.metrics.render(),
    ];
    for (const text of everything) assert.ok(!text.includes(KEY.slice(0, 12)), `the key leaked into: ${text}`);
    assert.equal(fallback.requests.length, 2);
  });

  it("does not fall back once text has streamed: a mid-stream overload is the caller's to see", async () => {
    const { router, fallback } = await routerFor([{ midStreamError: "overloaded_error", after: ["par", "tial"] }]);
    const pieces: string[] = [];
    await assert.rejects(
      router.call({ taskKind: "review", messages, maxOutputTokens: 8 }, { onText: (t) => pieces.push(t) }),
      (e) => isWeftError(e, "llm/overloaded") && /no fallback/.test((e as Error).message),
    );
    assert.deepEqual(pieces, ["par", "tial"]);
    assert.equal(fallback.requests.length, 0);
  });
});
