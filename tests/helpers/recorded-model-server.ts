/**
 * A recorded model, not a live one: an OpenAI-compatible chat completions
 * server, as its own process, that replays a recorded conversation. The
 * answer to a request is the recording's reply number N, N being how many
 * assistant messages the request already holds — so each turn of an agent
 * loop gets the next recorded tool call, whatever its context says. It
 * streams SSE the way OpenAI-compatible servers do, with token counts in the
 * last chunk (one per four bytes, at least one), and counts the requests.
 * A recording may end in a model that keeps thinking (`stallFrom`): from
 * that turn on, a request is held open unanswered until the client leaves,
 * so a test can stop a call midway. Or a turn may wait for the test
 * (`holdTurn`): its answer is sent once the test POSTs /release, so the
 * test acts while the agent is mid-task. GET /request/N gives the messages
 * request N (from 0) carried.
 *
 * Run: node tests/helpers/recorded-model-server.ts <recording.json>; it
 * prints `listening <port>`. `startRecordedModel` does that as a child.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import process from "node:process";

export interface Recording {
  /** What the recording is of, for people reading the fixture. */
  about: string;
  /** The assistant's replies, in order. */
  replies: string[];
  /** From this turn on, answer nothing: the request stays open until the client goes away. */
  stallFrom?: number;
  /** This turn's reply waits until the test POSTs /release. */
  holdTurn?: number;
}

const tokens = (text: string) => Math.max(1, Math.ceil(Buffer.byteLength(text) / 4));

function serve(recording: Recording): void {
  let requests = 0;
  const seen: unknown[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => release = resolve);
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/requests") return void res.end(String(requests));
    if (req.method === "POST" && req.url === "/release") return void (release(), res.end());
    const asked = req.method === "GET" ? /^\/request\/(\d+)$/.exec(req.url ?? "") : null;
    if (asked) return void res.end(JSON.stringify(seen[Number(asked[1])] ?? null));
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        model: string;
        messages: { role: string; content: string }[];
      };
      seen.push(body.messages);
      const turn = body.messages.filter((m) => m.role === "assistant").length;
      if (recording.stallFrom !== undefined && turn >= recording.stallFrom) return;
      if (turn === recording.holdTurn) return void released.then(() => answer(turn, body));
      answer(turn, body);
    });
    const answer = (turn: number, body: { model: string; messages: { role: string; content: string }[] }) => {
      const reply = recording.replies[turn];
      if (reply === undefined) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `the recording has no reply ${turn}` } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      const base = { id: `rec-${requests}`, object: "chat.completion.chunk", model: body.model };
      send({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: reply }, finish_reason: null }] });
      send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
      const prompt = body.messages.reduce((n, m) => n + tokens(m.content), 0);
      send({ ...base, choices: [], usage: { prompt_tokens: prompt, completion_tokens: tokens(reply) } });
      res.end("data: [DONE]\n\n");
    };
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
  });
}

/** Start the server on `file` as a child process; its base URL (…/v1), how many requests it took, and stop. */
export async function startRecordedModel(
  file: string,
): Promise<{
  url: string;
  requests(): Promise<number>;
  /** Send the held turn's reply (`holdTurn`). */
  release(): Promise<void>;
  /** The messages request `n` (from 0) carried. */
  request(n: number): Promise<Array<{ role: string; content: string }> | null>;
  stop(): void;
}> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, file], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`the recorded model server exited ${code}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1`,
    requests: async () => Number(await (await fetch(`${origin}/requests`)).text()),
    release: async () => void await (await fetch(`${origin}/release`, { method: "POST" })).text(),
    request: async (n) => await (await fetch(`${origin}/request/${n}`)).json(),
    stop: () => void child.kill(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  serve(JSON.parse(readFileSync(process.argv[2], "utf8")) as Recording);
}
