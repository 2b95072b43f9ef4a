/**
 * One HTTP request whose answer is read whole (the API client's JSON
 * calls), over node:http or node:https rather than fetch. A `weft` command
 * is a fresh process making a request or two; fetch's first use loads
 * undici, with its HTTP/2 and web-streams code, which costs such a process
 * more than the requests themselves. Streams (NDJSON, packs) still use
 * fetch, where its Response is what the caller wants.
 */
import type { IncomingMessage, RequestOptions } from "node:http";

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
  const { request } = url.startsWith("https:") ? await import("node:https") : await import("node:http");
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
