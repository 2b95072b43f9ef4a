/**
 * The LLM router's vocabulary, shared by every runtime: what a caller asks
 * (a chat for a task kind, with an output cap), what a provider streams
 * back, and how providers, routes and prices are configured. The HTTP
 * clients that speak each API live at the edge (peer/llm/); everything here
 * is plain data a browser could use too.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  /** Picks the route (`[llm.routes]`); unknown kinds use the `default` route. */
  taskKind: string;
  messages: ChatMessage[];
  /** The most output tokens this call may produce (and be charged for). */
  maxOutputTokens: number;
  /** 0 by default: agents want reproducible answers. */
  temperature?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What a provider client streams: text as it arrives, token counts when the API reports them, then the end. */
export type ProviderEvent =
  | { type: "text"; text: string }
  | { type: "usage"; inputTokens?: number; outputTokens?: number }
  | { type: "end"; stopReason: string };

/** One model behind one provider, as routes name it: `provider/model`. */
export interface Target {
  provider: string;
  model: string;
}

/** A request as one provider client sends it: the chat, the model, and the output cap the budget allows. */
export interface ProviderCall {
  model: string;
  messages: ChatMessage[];
  maxOutputTokens: number;
  temperature: number;
}

/** Speaks one provider's HTTP API; throws LlmError (errors.ts) with the failure's class. */
export interface ProviderClient {
  stream(call: ProviderCall, signal: AbortSignal): AsyncIterable<ProviderEvent>;
}

export type ProviderApi = "openai" | "anthropic";

export interface ProviderSettings {
  name: string;
  api: ProviderApi;
  /** Base URL: `…/v1` for OpenAI-compatible servers, the host for Anthropic. */
  url: string;
  /** Runs on hardware the user owns (Ollama, llama.cpp): tried before cloud providers. */
  local: boolean;
  /** Where the API key comes from; never the key itself. */
  key?: { env: string } | { keystore: string };
  /** Per attempt: from sending the request to the last byte. */
  timeoutMs: number;
  /** The model's context window in tokens, when known: a too-long request falls back only to a larger one. */
  contextTokens?: number;
}

/** Prices in nano-USD per token (TOML says micro-USD, up to three decimals), so cost arithmetic stays in integers. */
export interface Price {
  inputNanoUsd: number;
  outputNanoUsd: number;
}

export interface LlmSettings {
  providers: ProviderSettings[];
  /** Task kind → targets in the order to try them; `default` is required. */
  routes: Record<string, Target[]>;
  /** `provider/model` → price. Local providers without a price cost nothing. */
  prices: Record<string, Price>;
  /** Put local providers before cloud ones within a route. */
  localFirst: boolean;
  /** Retries of the same provider after a rate limit or an overload. */
  maxRetries: number;
  /** How long a failing provider is skipped. */
  cooldownMs: number;
}

export const targetName = (t: Target): string => `${t.provider}/${t.model}`;
