/**
 * A client of Anthropic's Messages API (version 2023-06-01): system
 * messages go in `system`, the key in `x-api-key`; the stream's
 * `message_start` carries the input tokens, `content_block_delta` the text,
 * `message_delta` the stop reason and output tokens, and an `error` event
 * the failure's type (overloaded_error, rate_limit_error, …).
 */
import {
  classifyHttpFailure,
  LlmError,
  type ProviderCall,
  type ProviderClient,
  type ProviderEvent,
} from "#protocol/llm";
import { eventJson, postJson, redact } from "./http.ts";
import { count } from "./openai-client.ts";
import { readSse } from "./sse.ts";

export const ANTHROPIC_VERSION = "2023-06-01";

export function anthropicClient(provider: string, baseUrl: string, key?: string): ProviderClient {
  const secrets = key ? [key] : [];
  return {
    async *stream(call: ProviderCall, signal: AbortSignal): AsyncGenerator<ProviderEvent> {
      const system = call.messages.filter((m) => m.role === "system").map((m) => m.content).join("\n\n");
      const response = await postJson(
        provider,
        `${baseUrl.replace(/\/+$/, "")}/v1/messages`,
        { "anthropic-version": ANTHROPIC_VERSION, ...(key ? { "x-api-key": key } : {}) },
        {
          model: call.model,
          max_tokens: call.maxOutputTokens,
          temperature: call.temperature,
          ...(system ? { system } : {}),
          messages: call.messages.filter((m) => m.role !== "system"),
          stream: true,
        },
        signal,
        secrets,
      );
      let stopped = false;
      for await (const { event, data } of readSse(response.body, provider)) {
        if (event === "ping") continue;
        const body = eventJson(provider, data);
        if (event === "error") {
          const said = redact(JSON.stringify(body.error ?? body).slice(0, 300), secrets);
          throw new LlmError(classifyHttpFailure(500, said), `${provider} failed mid-stream: ${said}`);
        } else if (event === "message_start") {
          const usage = body.message?.usage;
          yield { type: "usage", inputTokens: count(usage?.input_tokens), outputTokens: count(usage?.output_tokens) };
        } else if (event === "content_block_delta" && body.delta?.type === "text_delta") {
          if (typeof body.delta.text === "string" && body.delta.text) yield { type: "text", text: body.delta.text };
        } else if (event === "message_delta") {
          if (typeof body.delta?.stop_reason === "string") yield { type: "end", stopReason: body.delta.stop_reason };
          yield { type: "usage", outputTokens: count(body.usage?.output_tokens) };
        } else if (event === "message_stop") {
          stopped = true;
          break;
        }
      }
      if (!stopped) throw new LlmError("llm/bad-response", `${provider} ended the stream before message_stop`);
    },
  };
}
