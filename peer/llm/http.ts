/**
 * One POST to a provider, shared by the OpenAI-compatible and Anthropic
 * clients: sends JSON, and turns every way it can fail into an LlmError of
 * the right class: a connection that fails is `llm/unreachable`, an HTTP
 * error is classified from its status and (bounded) body. Error text
 * passes through `redact`, so a provider echoing the API key back in an
 * error never puts the key into a message, a log line or a metric.
 */
import { classifyHttpFailure, LlmError, retryAfterSeconds } from "#protocol/llm";

const MAX_ERROR_BODY = 4096;

/** `text` with every occurrence of each secret (and of its first 12 characters) replaced. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 8) continue;
    out = out.split(s).join("[redacted]").split(s.slice(0, 12)).join("[redacted]");
  }
  return out;
}

async function boundedText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, MAX_ERROR_BODY);
}

/** POSTs `body` as JSON; gives the response when it is 2xx with a body, throws the classified LlmError otherwise. */
export async function postJson(
  provider: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
  secrets: readonly string[],
): Promise<Response & { body: ReadableStream<Uint8Array> }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = redact(cause?.code ?? cause?.message ?? (e as Error).message, secrets);
    throw new LlmError("llm/unreachable", `${provider} is unreachable at ${new URL(url).origin} (${why})`);
  }
  if (!response.ok || !response.body) {
    const text = redact(await boundedText(response), secrets);
    const failure = classifyHttpFailure(response.status, text);
    const said = text.replace(/\s+/g, " ").trim().slice(0, 300);
    throw new LlmError(failure, `${provider} answered ${response.status}${said ? `: ${said}` : ""}`, {
      retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after"), Date.now()),
    });
  }
  return response as Response & { body: ReadableStream<Uint8Array> };
}

/** Parses one event's JSON, or throws `llm/bad-response` naming the provider. */
export function eventJson(provider: string, data: string): Record<string, any> {
  try {
    const value = JSON.parse(data);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch {
    // falls through to the error below
  }
  throw new LlmError("llm/bad-response", `${provider} streamed an event that is not a JSON object`);
}
