/**
 * The LLM router's overhead per call: a streamed chat completion through
 * the router (validation, budget reservation and settlement with an
 * in-memory budget, SSE parsing, token counting, metrics) against a direct
 * streamed HTTP call to the same endpoint reading the same bytes, measured
 * in alternating rounds of the same run. The endpoint is node-llama-cpp
 * running a generated random-weight model (meaningless text) behind an
 * OpenAI-compatible route, in its own process. Target: ≤ 1.05× or + 2 ms.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname } from "node:path";
import { rm } from "node:fs/promises";
import process from "node:process";
import { startLlm } from "../../peer/llm/start.ts";
import { writeTinyLlamaModel } from "../helpers/tiny-llama-model.ts";
import { InMemoryBudget, llmSettings } from "../helpers/llm.ts";
import { interleaved, report } from "./report.ts";

const BENCH = "llm-router";
const OUTPUT_TOKENS = 4;
const modelPath = await writeTinyLlamaModel();
const server = spawn(process.execPath, [
  new URL("../helpers/llama-openai-server.ts", import.meta.url).pathname,
  modelPath,
], {
  stdio: ["pipe", "pipe", "inherit"],
});
const { url } = JSON.parse(
  await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once("line", resolve)),
);

const messages = [{ role: "user" as const, content: "hello world" }];
const { withBudget } = await startLlm(
  llmSettings(`
[llm]
[llm.providers.engine]
api = "openai"
url = "${url}"
[llm.routes]
default = ["engine/tiny"]
[llm.prices."engine/tiny"]
input = 1
output = 2
`),
  { env: {}, keysDir: "/nonexistent" },
);
const router = withBudget(new InMemoryBudget(Number.MAX_SAFE_INTEGER));

const body = JSON.stringify({
  model: "tiny",
  messages,
  max_tokens: OUTPUT_TOKENS,
  temperature: 0,
  stream: true,
  stream_options: { include_usage: true },
});
/** The direct call: the same request, its stream read until `[DONE]`, as any streaming client reads it. */
async function direct(): Promise<void> {
  const response = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("data: [DONE]")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the direct call ended before [DONE]");
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
}
async function routed(): Promise<void> {
  const r = await router.call({ taskKind: "code", messages, maxOutputTokens: OUTPUT_TOKENS });
  if (r.usage.outputTokens !== OUTPUT_TOKENS) throw new Error("the routed call was cut short");
}

const ops = await interleaved({ direct, routed }, 11, 1000);
const [directMs, routedMs] = [1000 / ops.direct, 1000 / ops.routed];
report({
  bench: BENCH,
  metric: `call time, ${OUTPUT_TOKENS} output tokens, streamed`,
  value: routedMs,
  unit: "ms",
  baseline: directMs,
  note: "baseline: a direct streamed HTTP call to the same endpoint; target ≤ 1.05× or + 2 ms",
});
report({
  bench: BENCH,
  metric: "router overhead per call",
  value: routedMs - directMs,
  unit: "ms",
  baseline: directMs,
  note: "routed minus direct, median of alternating rounds",
});

server.stdin!.end();
await new Promise((resolve) => server.once("exit", resolve));
await rm(dirname(modelPath), { recursive: true, force: true });
