/**
 * A small loopback server speaking Anthropic's Messages API streaming
 * format (message_start, content_block_start/delta/stop, message_delta,
 * message_stop, ping, error events), answering from a script: it is a
 * scripted stand-in for the API's shape, not a model. It records each
 * request's headers and body so tests can check what the client sent.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";

export type ScriptedAnswer =
  | { text: string[]; inputTokens: number; outputTokens: number; stopReason?: string }
  | { status: number; type: string; message: string; retryAfter?: string }
  | { midStreamError: string; after: string[] };

export interface AnthropicSseServer {
  url: string;
  requests: Array<{ headers: IncomingHttpHeaders; body: any }>;
  close(): Promise<void>;
}

const event = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export async function startAnthropicSseServer(script: ScriptedAnswer[]): Promise<AnthropicSseServer> {
  const requests: AnthropicSseServer["requests"] = [];
  const server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    requests.push({ headers: req.headers, body: JSON.parse(raw) });
    const answer = script.shift();
    if (!answer || req.url !== "/v1/messages") return void res.writeHead(500).end();
    if ("status" in answer) {
      res.writeHead(answer.status, {
        "content-type": "application/json",
        ...(answer.retryAfter ? { "retry-after": answer.retryAfter } : {}),
      });
      return void res.end(JSON.stringify({ type: "error", error: { type: answer.type, message: answer.message } }));
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const pieces = "text" in answer ? answer.text : answer.after;
    res.write(event("message_start", {
      type: "message_start",
      message: {
        id: "msg_scripted",
        type: "message",
        role: "assistant",
        content: [],
        model: requests.at(-1)!.body.model,
        stop_reason: null,
        usage: { input_tokens: "text" in answer ? answer.inputTokens : 1, output_tokens: 1 },
      },
    }));
    res.write(
      event("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }),
    );
    res.write(event("ping", { type: "ping" }));
    for (const text of pieces) {
      res.write(
        event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }),
      );
    }
    if ("midStreamError" in answer) {
      return void res.end(
        event("error", { type: "error", error: { type: answer.midStreamError, message: "scripted" } }),
      );
    }
    res.write(event("content_block_stop", { type: "content_block_stop", index: 0 }));
    res.write(event("message_delta", {
      type: "message_delta",
      delta: { stop_reason: answer.stopReason ?? "end_turn", stop_sequence: null },
      usage: { output_tokens: answer.outputTokens },
    }));
    res.end(event("message_stop", { type: "message_stop" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
