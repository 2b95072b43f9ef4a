/**
 * The router's decisions, runtime-neutral (also run under `deno test`):
 * how providers' HTTP answers are classified, integer cost arithmetic,
 * local-first routes, fallback rules by failure class, cooldowns, and the
 * router's own cut of a stream whose provider ignores the output cap. The
 * provider clients here are scripted in the test (each says what it does);
 * the HTTP clients are tested against real servers in tests/llm/.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isWeftError } from "../../protocol/errors.ts";
import {
  classifyHttpFailure,
  costMicroUsd,
  inputTokensBound,
  LlmError,
  LlmRouter,
  type LlmSettings,
  mayFallBack,
  outputTokensWithin,
  type ProviderClient,
  type ProviderEvent,
  retryAfterSeconds,
  routeFor,
} from "../../protocol/llm/index.ts";

const messages = [{ role: "user" as const, content: "hi" }];

function settings(over: Partial<LlmSettings> = {}): LlmSettings {
  const provider = (name: string, local: boolean, contextTokens?: number) => ({
    name,
    api: "openai" as const,
    url: `http://${name}`,
    local,
    timeoutMs: 5000,
    ...(contextTokens ? { contextTokens } : {}),
  });
  return {
    providers: [provider("cloud", false, 200_000), provider("small", true, 4096), provider("big", true, 32_768)],
    routes: {
      default: [{ provider: "cloud", model: "m" }, { provider: "small", model: "m" }, { provider: "big", model: "m" }],
    },
    prices: { "cloud/m": { inputNanoUsd: 3000, outputNanoUsd: 15000 } },
    localFirst: true,
    maxRetries: 1,
    cooldownMs: 30_000,
    ...over,
  };
}

/** A client that streams `pieces` and then ends, ignoring the output cap it is given. */
function streaming(pieces: string[], log: string[] = [], name = ""): ProviderClient {
  return {
    async *stream(call): AsyncGenerator<ProviderEvent> {
      log.push(`${name}:${call.maxOutputTokens}`);
      for (const text of pieces) yield { type: "text", text };
      yield { type: "end", stopReason: "stop" };
    },
  };
}

/** A client that fails every call with `code`. */
function failing(code: ConstructorParameters<typeof LlmError>[0], log: string[] = [], name = ""): ProviderClient {
  return {
    // deno-lint-ignore require-yield
    async *stream() {
      log.push(name);
      throw new LlmError(code, `${name} failed with ${code}`);
    },
  };
}

describe("LLM router decisions", () => {
  it("classifies providers' errors by status and by what their bodies say", () => {
    const cases: Array<[number, string, string]> = [
      [429, `{"error":{"type":"rate_limit_error"}}`, "llm/rate-limited"],
      [429, `{"error":{"code":"insufficient_quota"}}`, "llm/auth"],
      [529, `{"error":{"type":"overloaded_error"}}`, "llm/overloaded"],
      [503, "", "llm/overloaded"],
      [500, "", "llm/overloaded"],
      [401, "", "llm/auth"],
      [403, `{"error":{"type":"permission_error"}}`, "llm/auth"],
      [400, `{"error":{"code":"context_length_exceeded"}}`, "llm/context-too-long"],
      [400, `{"error":{"message":"prompt is too long: 210000 tokens > 200000 maximum"}}`, "llm/context-too-long"],
      [400, `{"error":{"message":"the request exceeds the available context size"}}`, "llm/context-too-long"],
      [400, `{"error":{"type":"invalid_request_error","message":"bad role"}}`, "llm/bad-request"],
      [404, `model not found`, "llm/bad-request"],
      [504, "", "llm/timeout"],
    ];
    for (const [status, body, expected] of cases) {
      assert.equal(classifyHttpFailure(status, body), expected, `${status} ${body}`);
    }
    assert.equal(retryAfterSeconds("2", 0), 2);
    assert.equal(retryAfterSeconds(new Date(10_000).toUTCString(), 0), 10);
    assert.equal(retryAfterSeconds("soon", 0), undefined);
  });

  it("does cost arithmetic in integers, rounding up, and bounds input tokens by bytes", () => {
    const price = { inputNanoUsd: 150, outputNanoUsd: 600 }; // $0.15 / $0.60 per million
    assert.equal(costMicroUsd(price, { inputTokens: 1000, outputTokens: 1000 }), 750);
    assert.equal(costMicroUsd(price, { inputTokens: 1, outputTokens: 0 }), 1, "a fraction of a micro-USD rounds up");
    assert.equal(outputTokensWithin(price, 1000, 750), 1000);
    assert.equal(outputTokensWithin(price, 1000, 100), 0);
    assert.equal(outputTokensWithin({ inputNanoUsd: 0, outputNanoUsd: 0 }, 10, 0), Infinity);
    assert.equal(inputTokensBound([{ role: "user", content: "héllo" }]), 6 + 8 + 8);
  });

  it("orders a route local first, keeping the configured order within each", () => {
    assert.deepEqual(routeFor(settings(), "anything").map((t) => t.provider), ["small", "big", "cloud"]);
    assert.deepEqual(routeFor(settings({ localFirst: false }), "x").map((t) => t.provider), ["cloud", "small", "big"]);
  });

  it("falls back after a too-long context only to a larger window, and never after a bad request", () => {
    const [cloud, small, big] = settings().providers;
    assert.equal(mayFallBack("llm/context-too-long", small, big), true);
    assert.equal(mayFallBack("llm/context-too-long", big, small), false);
    assert.equal(mayFallBack("llm/bad-request", small, cloud), false);
    assert.equal(mayFallBack("llm/rate-limited", small, cloud), true);
  });

  it("moves a too-long prompt to a larger window, never to a smaller one", async () => {
    const log: string[] = [];
    const route = (...names: string[]) => ({ default: names.map((provider) => ({ provider, model: "m" })) });
    const clients = (tooLong: string, answers: string) =>
      new Map([[tooLong, failing("llm/context-too-long", log, tooLong)], [answers, streaming(["x"], log, answers)]]);
    const up = new LlmRouter({
      settings: settings({ routes: route("small", "big") }),
      clients: clients("small", "big"),
    });
    assert.equal((await up.call({ taskKind: "t", messages, maxOutputTokens: 4 })).provider, "big");
    log.length = 0;
    const down = new LlmRouter({
      settings: settings({ routes: route("big", "small") }),
      clients: clients("big", "small"),
    });
    await assert.rejects(
      down.call({ taskKind: "t", messages, maxOutputTokens: 4 }),
      (e) => isWeftError(e, "llm/context-too-long"),
    );
    assert.deepEqual(log, ["big"], "the smaller window is not tried");
  });

  it("cuts a stream whose provider ignores the output cap at the cap the budget paid for", async () => {
    const router = new LlmRouter({
      settings: settings({ routes: { default: [{ provider: "small", model: "m" }] } }),
      clients: new Map([["small", streaming(["a", "b", "c", "d", "e"])]]),
    });
    const result = await router.call({ taskKind: "t", messages, maxOutputTokens: 3 });
    assert.equal(result.text, "abc");
    assert.equal(result.stopReason, "budget-cap");
    assert.equal(result.usage.outputTokens, 3);
    assert.equal(result.attempts[0].outcome, "cut");
  });

  it("retries with backoff, cools a failing provider down, and names every target when none answers", async () => {
    let now = 1_000_000;
    const waits: number[] = [];
    const log: string[] = [];
    const router = new LlmRouter({
      settings: settings(),
      clients: new Map<string, ProviderClient>([
        ["small", failing("llm/overloaded", log, "small")],
        ["big", failing("llm/unreachable", log, "big")],
        ["cloud", failing("llm/rate-limited", log, "cloud")],
      ]),
      now: () => now,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
      random: () => 0.5,
    });
    const error = await router.call({ taskKind: "t", messages, maxOutputTokens: 4 }).catch((e) => e);
    assert.ok(isWeftError(error, "llm/unavailable"), String(error));
    assert.deepEqual(log, ["small", "small", "big", "cloud", "cloud"], "retried once where retrying helps");
    assert.deepEqual(waits, [125, 125]);
    assert.match(error.message, /small\/m: llm\/overloaded.*big\/m: llm\/unreachable.*cloud\/m: llm\/rate-limited/);
    log.length = 0;
    const cooling = await router.call({ taskKind: "t", messages, maxOutputTokens: 4 }).catch((e) => e);
    assert.deepEqual(log, [], "all three are cooling down");
    assert.match(cooling.message, /skipped after llm\/overloaded/);
    now += 30_001;
    await router.call({ taskKind: "t", messages, maxOutputTokens: 4 }).catch(() => {});
    assert.equal(log[0], "small", "tried again once its cooldown is over");
  });

  it("moves on at once when a rate limit asks to wait longer than 30 s", async () => {
    const waits: number[] = [];
    const log: string[] = [];
    const slow: ProviderClient = {
      // deno-lint-ignore require-yield
      async *stream() {
        log.push("small");
        throw new LlmError("llm/rate-limited", "wait a minute", { retryAfterSeconds: 60 });
      },
    };
    const router = new LlmRouter({
      settings: settings(),
      clients: new Map([["small", slow], ["big", streaming(["x"], log, "big")]]),
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    });
    const result = await router.call({ taskKind: "t", messages, maxOutputTokens: 4 });
    assert.equal(result.provider, "big");
    assert.deepEqual(waits, []);
    assert.equal(
      router.health.cooling("small", Date.now())!.at >= Date.now() + 59_000,
      true,
      "cooled for its Retry-After",
    );
  });

  it("sends nothing for a call whose caller has already stopped it", async () => {
    const log: string[] = [];
    const router = new LlmRouter({ settings: settings(), clients: new Map([["small", streaming(["x"], log)]]) });
    const stopped = AbortSignal.abort();
    await assert.rejects(
      router.call({ taskKind: "t", messages, maxOutputTokens: 4 }, { signal: stopped }),
      (e) => isWeftError(e, "llm/cancelled"),
    );
    assert.deepEqual(log, []);
  });

  it("refuses a malformed request before reserving or sending anything", async () => {
    const log: string[] = [];
    const router = new LlmRouter({ settings: settings(), clients: new Map([["small", streaming(["x"], log)]]) });
    for (
      const bad of [
        { taskKind: "t", messages, maxOutputTokens: 0 },
        { taskKind: "T T", messages, maxOutputTokens: 1 },
        { taskKind: "t", messages: [{ role: "tool", content: "x" }], maxOutputTokens: 1 },
      ]
    ) {
      await assert.rejects(router.call(bad as never), (e) => isWeftError(e, "input/invalid"));
    }
    assert.deepEqual(log, []);
  });
  it("stops a call mid-stream when its budget withdraws the grant, with the budget's reason, and settles it", async () => {
    const withdrawn = new AbortController();
    const settled: number[] = [];
    const budget = {
      reserve: (r: { maxCostMicroUsd: number; maxTokens: number }) => {
        assert.ok(r.maxTokens >= 100, "the reservation counts tokens too: input bound and output cap");
        return Promise.resolve({ grantedMicroUsd: r.maxCostMicroUsd, signal: withdrawn.signal });
      },
      settle: (_r: unknown, actual: number) => (settled.push(actual), Promise.resolve()),
    };
    const endless: ProviderClient = {
      async *stream(_call, signal): AsyncGenerator<ProviderEvent> {
        yield { type: "text", text: "a" };
        withdrawn.abort(new LlmError("llm/budget-exhausted", "the agent was paused"));
        if (!signal.aborted) await new Promise((_, reject) => signal.addEventListener("abort", reject));
        throw signal.reason;
      },
    };
    const router = new LlmRouter({
      settings: settings({ routes: { default: [{ provider: "cloud", model: "m" }] } }),
      clients: new Map([["cloud", endless]]),
      budget,
    });
    await assert.rejects(
      router.call({ taskKind: "t", messages, maxOutputTokens: 100 }),
      (e) => isWeftError(e, "llm/budget-exhausted") && /paused/.test((e as Error).message),
    );
    assert.equal(settled.length, 1, "settled exactly once");
  });
});
