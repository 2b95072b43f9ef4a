/**
 * The OpenAI-compatible client's side of what the engine tests cannot make
 * node-llama-cpp do, against a loopback server answering in OpenAI's format
 * from a script (not a model): the key sent as a Bearer token, an exhausted
 * quota taken as refused credentials (no retry, provider down) with the key
 * the server echoes redacted, and an error object sent mid-stream.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { isWeftError } from "#protocol";
import { startLlm } from "../../peer/llm/start.ts";
import { llmSettings } from "../helpers/llm.ts";

const KEY = "sk-proj-test-abcdefghijklmnopqrstuvwxyz";
const messages = [{ role: "user" as const, content: "hi" }];

/** Answers each request with the next scripted [status, body]; records the headers. */
async function scripted(answers: Array<[number, string]>) {
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    headers.push(req.headers);
    req.resume().on("end", () => {
      const [status, body] = answers.shift() ?? [500, ""];
      res.writeHead(status, { "content-type": status === 200 ? "text/event-stream" : "application/json" }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  return { url, headers, close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))) };
}

const routerFor = (url: string) =>
  startLlm(
    llmSettings(`
[llm]
[llm.providers.openai]
api = "openai"
url = "${url}"
key_env = "TEST_OPENAI_KEY"
[llm.routes]
default = ["openai/gpt-4o-mini"]
[llm.prices."openai/gpt-4o-mini"]
input = 0.15
output = 0.6
`),
    { env: { TEST_OPENAI_KEY: KEY }, keysDir: "/nonexistent" },
    undefined,
    { random: () => 0 },
  );

describe("OpenAI-compatible API (a scripted server answering in its format)", () => {
  const servers: Array<{ close(): Promise<unknown> }> = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  it("sends the key as a Bearer token and prices the reported usage in fractions of a micro-USD, rounded up", async () => {
    const s = await scripted([[
      200,
      `data: {"choices":[{"delta":{"content":"ok"},"finish_reason":null}]}\n\n` +
      `data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n` +
      `data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1}}\n\ndata: [DONE]\n\n`,
    ]]);
    servers.push(s);
    const r = await (await routerFor(s.url)).router.call({ taskKind: "t", messages, maxOutputTokens: 4 });
    assert.equal(s.headers[0].authorization, `Bearer ${KEY}`);
    assert.deepEqual([r.text, r.usage, r.costMicroUsd, r.stopReason], [
      "ok",
      { inputTokens: 9, outputTokens: 1 },
      2,
      "stop",
    ]);
  });

  it("takes an exhausted quota as refused credentials: no retry, the provider down, the echoed key redacted", async () => {
    const s = await scripted([[
      429,
      JSON.stringify({ error: { code: "insufficient_quota", message: `You exceeded your quota for key ${KEY}` } }),
    ]]);
    servers.push(s);
    const { router, metrics } = await routerFor(s.url);
    const error = await router.call({ taskKind: "t", messages, maxOutputTokens: 4 }).catch((e) => e);
    assert.ok(isWeftError(error, "llm/auth"), String(error));
    assert.ok(!error.message.includes(KEY.slice(0, 12)) && !metrics.render().includes(KEY.slice(0, 12)));
    const again = await router.call({ taskKind: "t", messages, maxOutputTokens: 4 }).catch((e) => e);
    assert.ok(isWeftError(again, "llm/unavailable") && /skipped after llm\/auth/.test(again.message));
    assert.equal(s.headers.length, 1, "neither retried nor tried again while down");
  });

  it("reads an error object sent mid-stream as the failure it names", async () => {
    const s = await scripted([[200, `data: {"error":{"code":503,"message":"server overloaded"}}\n\n`]]);
    servers.push(s);
    const { router } = await startLlm(
      { ...(await routerFor(s.url)).router.settings, maxRetries: 0 },
      { env: { TEST_OPENAI_KEY: KEY }, keysDir: "/nonexistent" },
    );
    await assert.rejects(
      router.call({ taskKind: "t", messages, maxOutputTokens: 4 }),
      (e) => isWeftError(e, "llm/overloaded"),
    );
  });
});
