/**
 * Server-sent events as providers stream them, read from a real fetch body
 * (a loopback server writing the bytes given): events split across
 * network chunks and CRLF line ends, comments ignored, and a provider
 * sending one endless event refused at 1 MiB instead of buffered forever.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { isWeftError } from "#protocol";
import { readSse } from "../../peer/llm/sse.ts";

async function served(chunks: string[], fn: (body: ReadableStream<Uint8Array>) => Promise<void>): Promise<void> {
  const server = createServer(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const c of chunks) {
      res.write(c);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await fn(response.body!);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("reading server-sent events", () => {
  it("joins events split across chunks, with CRLF line ends and comments", () =>
    served(
      [": keep-alive\r\n\r\nevent: message_st", 'art\r\ndata: {"a":', "1}\r\n\r\ndata: x\ndata: y\n\n"],
      async (body) => {
        const events = [];
        for await (const e of readSse(body, "p")) events.push(e);
        assert.deepEqual(events, [{ event: "message_start", data: '{"a":1}' }, { event: "message", data: "x\ny" }]);
      },
    ));

  it("refuses an event over 1 MiB", () =>
    served(["data: " + "x".repeat(600_000), "y".repeat(600_000)], async (body) => {
      await assert.rejects(
        (async () => {
          for await (const _ of readSse(body, "p"));
        })(),
        (e) => isWeftError(e, "llm/bad-response") && /over 1 MiB/.test((e as Error).message),
      );
    }));
});
