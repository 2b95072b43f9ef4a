/**
 * A client of the OpenAI-compatible chat completions API, as OpenAI,
 * Ollama, llama.cpp's server and vLLM serve it: streams `choices[].delta`
 * text, asks for the token counts in the last chunk
 * (`stream_options.include_usage`), and reads an `error` object sent
 * mid-stream as the failure it names.
 */
import {
  classifyHttpFailure,
  LlmError,
  type ProviderCall,
  type ProviderClient,
  type ProviderEvent,
} from "#protocol/llm";
import { eventJson, postJson, redact } from "./http.ts";
import { readSse } from "./sse.ts";

export function openAiClient(provider: string, baseUrl: string, key?: string): ProviderClient {
  const secrets = key ? [key] : [];
  return {
    async *stream(call: ProviderCall, signal: AbortSignal): AsyncGenerator<ProviderEvent> {
      const response = await postJson(
        provider,
        `${baseUrl.replace(/\/+$/, "")}/chat/completions`,
        key ? { authorization: `Bearer ${key}` } : {},
        {
          model: call.model,
          messages: call.messages,
          max_tokens: call.maxOutputTokens,
          temperature: call.temperature,
          stream: true,
          stream_options: { include_usage: true },
        },
        signal,
        secrets,
      );
      let ended = false;
      for await (const { data } of readSse(response.body, provider)) {
        if (data === "[DONE]") break;
        const chunk = eventJson(provider, data);
        if (chunk.error) {
          const said = redact(JSON.stringify(chunk.error).slice(0, 300), secrets);
          const status = typeof chunk.error.code === "number" ? chunk.error.code : 500;
          throw new LlmError(classifyHttpFailure(status, said), `${provider} failed mid-stream: ${said}`);
        }
        const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
        const text = choice?.delta?.content;
        if (typeof text === "string" && text) yield { type: "text", text };
        if (typeof choice?.finish_reason === "string") {
          ended = true;
          yield { type: "end", stopReason: choice.finish_reason };
        }
        const usage = chunk.usage;
        if (usage && typeof usage === "object") {
          yield {
            type: "usage",
            inputTokens: count(usage.prompt_tokens),
            outputTokens: count(usage.completion_tokens),
          };
        }
      }
      if (!ended) throw new LlmError("llm/bad-response", `${provider} ended the stream without a finish reason`);
    },
  };
}

/** A token count a provider reported, if it is one. */
export function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}
