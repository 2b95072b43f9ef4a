/**
 * Server-sent events read from a fetch body, as both OpenAI-compatible
 * servers and Anthropic's API stream: `event:` and `data:` lines, a blank
 * line ending each event. One event is bounded (a provider sending an
 * endless line is cut off with an error, not buffered forever).
 */
import { LlmError } from "#protocol/llm";

export interface SseEvent {
  event: string;
  data: string;
}

const MAX_EVENT_BYTES = 1 << 20;

export async function* readSse(body: ReadableStream<Uint8Array>, provider: string): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r?\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === "\r" && buffer[nl + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
          event = "";
          data = [];
          size = 0;
          continue;
        }
        size += line.length;
        if (size > MAX_EVENT_BYTES) throw new LlmError("llm/bad-response", `${provider} sent an event over 1 MiB`);
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
      }
      if (buffer.length > MAX_EVENT_BYTES) throw new LlmError("llm/bad-response", `${provider} sent a line over 1 MiB`);
    }
    if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}
