/**
 * One HTTP request whose answer is read whole (the API client's JSON
 * calls), over node:http or node:https rather than fetch. A `weft` command
 * is a fresh process making a request or two; fetch's first use loads
 * undici, with its HTTP/2 and web-streams code, which costs such a process
 * more than the requests themselves. Streams (NDJSON, packs) still use
 * fetch, where its Response is what the caller wants. node:http is taken
 * with process.getBuiltinModule, not `import`: an ES import of node:http
 * builds its namespace from every export, and reading its lazy WebSocket
 * export loads undici all the same (~25 ms of a ~250 ms `weft task list`).
 */
import process from "node:process";
import type { IncomingMessage, RequestOptions } from "node:http";

/** node:http or node:https, without an ES namespace (Deno lacks getBuiltinModule: it imports). */
async function httpModule(secure: boolean): Promise<typeof import("node:http")> {
  const name = secure ? "node:https" : "node:http";
  const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.(name);
  return (builtin ?? await import(name)) as typeof import("node:http");
}

export interface Exchange {
  status: number;
  /** A response header, or null if absent (as Headers.get). */
  header(name: string): string | null;
  /** The body, decoded as UTF-8. */
  text: string;
}

export async function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: Uint8Array },
): Promise<Exchange> {
  const { request } = await httpModule(url.startsWith("https:"));
  const options: RequestOptions = {
    method: init.method,
    headers: { ...init.headers, ...(init.body ? { "content-length": String(init.body.byteLength) } : {}) },
  };
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, options, resolve);
    req.once("error", reject);
    req.end(init.body);
  });
  res.setEncoding("utf8");
  let text = "";
  for await (const chunk of res) text += chunk;
  return {
    status: res.statusCode ?? 0,
    header(name) {
      const value = res.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
    text,
  };
}
