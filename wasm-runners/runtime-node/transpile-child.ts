/**
 * Entry point of a Node transpile subprocess: reads one frame
 * `{ cid, bytes }` from stdin, transpiles the component with jco, and
 * writes one frame `{ transpiled }` or `{ error: { code, message } }` to
 * stdout. jco parses bytes anyone could have sent, so it does that here,
 * under a heap limit, not on the daemon's thread.
 */
import process from "node:process";
import { encodeFrame, FrameDecoder } from "../core/frames.ts";
import { transpileComponent } from "../core/transpile.ts";
import { isWeftError } from "#protocol";
import { writeAllSync } from "./write-sync.ts";

const decoder = new FrameDecoder();
for await (const chunk of process.stdin) {
  const [request] = decoder.push(chunk) as { cid: string; bytes: Uint8Array }[];
  if (request === undefined) continue;
  let reply: unknown;
  try {
    reply = { transpiled: await transpileComponent(request.cid, request.bytes) };
  } catch (e) {
    reply = { error: { code: isWeftError(e) ? e.code : "wasm/transpile", message: (e as Error).message } };
  }
  writeAllSync(1, encodeFrame(reply));
  break;
}
