/**
 * An OpenAI-compatible chat completions route in front of node-llama-cpp,
 * as a llama.cpp server or Ollama would serve it, bound to 127.0.0.1 on a
 * port the OS picks: streaming (SSE, with the usage chunk when asked) and
 * not, exact token counts from the model's own tokenizer, greedy sampling,
 * one request at a time on one single-threaded context. A prompt that does
 * not fit the context is refused as llama.cpp refuses it. Run directly
 * (`node llama-openai-server.ts MODEL.gguf`) it prints {"port"} and serves
 * until stdin closes, so a benchmark can put it in its own process.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import process from "node:process";
import { getLlama, type LlamaContext, type LlamaModel, type Token } from "node-llama-cpp";

export interface LlamaServer {
  url: string;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<any> {
  let text = "";
  for await (const chunk of req) if ((text += chunk).length > 1 << 20) throw new Error("body over 1 MiB");
  return JSON.parse(text);
}

export async function startLlamaServer(modelPath: string, contextSize = 512): Promise<LlamaServer> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
  const model: LlamaModel = await llama.loadModel({ modelPath });
  const context: LlamaContext = await model.createContext({ contextSize, threads: 1 });
  const sequence = context.getSequence();
  let queue = Promise.resolve();
  let answered = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") return void res.writeHead(404).end();
    queue = queue.then(async () => {
      const r = await body(req);
      const prompt = r.messages.map((m: { role: string; content: string }) => `${m.role}: ${m.content}\n`).join("") +
        "assistant:";
      const tokens = model.tokenize(prompt);
      const max = Math.min(r.max_tokens ?? 16, contextSize - tokens.length);
      if (max < 1) {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({
          error: {
            code: 400,
            type: "exceed_context_size_error",
            message: "the request exceeds the available context size",
          },
        }));
        return;
      }
      const id = `chatcmpl-${++answered}`;
      const chunk = (delta: object, finish: string | null, extra = {}) =>
        `data: ${
          JSON.stringify({
            id,
            object: "chat.completion.chunk",
            model: r.model,
            choices: [{ index: 0, delta, finish_reason: finish }],
            ...extra,
          })
        }\n\n`;
      if (r.stream) res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      await sequence.clearHistory();
      const out: Token[] = [];
      let sent = "";
      for await (const token of sequence.evaluate(tokens, { temperature: r.temperature ?? 0 })) {
        out.push(token);
        const text = model.detokenize(out);
        if (r.stream && text.length > sent.length) res.write(chunk({ content: text.slice(sent.length) }, null));
        sent = text;
        if (out.length >= max || res.destroyed) break;
      }
      const usage = {
        prompt_tokens: tokens.length,
        completion_tokens: out.length,
        total_tokens: tokens.length + out.length,
      };
      if (r.stream) {
        res.write(chunk({}, "length"));
        if (r.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id, choices: [], usage })}\n\n`);
        res.end("data: [DONE]\n\n");
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
          id,
          object: "chat.completion",
          model: r.model,
          choices: [{ index: 0, message: { role: "assistant", content: sent }, finish_reason: "length" }],
          usage,
        }));
      }
    }).catch((e) => void (res.headersSent ? res.destroy() : res.writeHead(400).end(String(e))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: () => answered,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await queue;
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

if (import.meta.main) {
  const server = await startLlamaServer(process.argv[2]);
  process.stdout.write(JSON.stringify({ url: server.url }) + "\n");
  process.stdin.resume();
  process.stdin.on("close", () => server.close().then(() => process.exit(0)));
}
