/**
 * Peer and relay addresses as people type them ("localhost:7777",
 * "https://relay.example", "wss://host/v1/sync") turned into the sync
 * endpoint's WebSocket URL, and the endpoint of the peer that served this
 * page, if a peer did.
 */
import { WeftError } from "#protocol";

export function syncUrl(input: string): string {
  let text = input.trim();
  if (!/^[a-z]+:\/\//i.test(text)) text = `${/^(localhost|127\.|\[::1\])/.test(text) ? "http" : "https"}://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WeftError("InvalidInput", "input/address", `${input} is not a URL or host:port`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  else if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new WeftError("InvalidInput", "input/address", `${input}: use ws://, wss://, http:// or https://`);
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1/sync";
  url.hash = "";
  return url.toString();
}

/**
 * The sync endpoint of the peer that served this page: a Weft peer answers
 * /healthz at the origin's root. Undefined on any other host.
 */
export async function servingPeer(location: Location): Promise<string | undefined> {
  try {
    const r = await fetch(new URL("/healthz", location.href), { cache: "no-store" });
    if (!r.ok || !r.headers.get("content-type")?.includes("json")) return undefined;
    if ((await r.json())?.ok !== true) return undefined;
    return syncUrl(location.origin);
  } catch {
    return undefined;
  }
}

/** The http(s) origin of the API of the peer whose sync endpoint is `sync` (they share a port). */
export function apiOrigin(sync: string): string {
  const url = new URL(sync);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.origin;
}
