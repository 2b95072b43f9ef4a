/**
 * One request to a peer's API, signed by this browser for that request
 * only: an invocation of `command` on the space, addressed to the peer's
 * DID, bound to the method, path and body digest (requestArgs), proved by
 * the chain this browser holds for the command, with a short expiry. The
 * peer checks it like any other caller's; a browser whose delegation lacks
 * the command is told so here, before anything is sent. Any member peer
 * can be asked: the API answers other origins on the routes a bearer
 * authorizes (peer/api/cors.ts), and the peer's DID is then the one its sync
 * session proved, since its open /v1/identity answers only its own origin.
 */
import { WeftError } from "#protocol";
import type { Space } from "#protocol/space";
import { Commands, encodeContainer, invoke, requestArgs } from "#protocol/ucan";
import { peerDid } from "./invite-mailbox.ts";

/** Signs one request to a peer's API as this browser (node/browser-node.ts supplies it). */
export interface ApiSigner {
  did: string;
  signer: Parameters<typeof invoke>[0]["issuer"];
}

/** A peer's API as this browser reaches it: its http(s) origin, and its DID when its sync session proved it. */
export interface PeerApi {
  origin: string;
  did?: string;
}

/** How long a signed request stays usable (the peer's replay cache covers it). */
const REQUEST_SECONDS = 120;

export interface SignedRequest {
  me: ApiSigner;
  space: Space;
  /** The http(s) origin of the peer's API. */
  origin: string;
  /** The peer's DID, if known (its sync session's); else asked of the peer, which answers only its own origin. */
  audience?: string;
  command: string;
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: Uint8Array<ArrayBuffer>;
  /** Bytes uploaded as they are (a pack), bound by the `?sha256=` the signed path names rather than again. */
  upload?: Uint8Array<ArrayBuffer>;
  signal?: AbortSignal;
}

/** Send `request`, signed; the response as the peer gave it (callers judge its status). */
export async function signedFetch(request: SignedRequest): Promise<Response> {
  const { me, space, origin, command, method, path, body, upload, signal } = request;
  const audience = request.audience ?? await peerDid(origin);
  if (!audience) throw new WeftError("Unavailable", "peer/unreachable", `no Weft peer answers at ${origin}`);
  const now = Math.floor(Date.now() / 1000);
  const [chain] = space.authority.chainsFor(me.did, command, now);
  if (!chain) {
    throw new WeftError(
      "Unauthorized",
      "cap/not-held",
      `your delegation in this space does not include ${command}: ask a member for one that does`,
    );
  }
  const inv = await invoke({
    issuer: me.signer,
    audience,
    subject: space.id,
    command,
    args: requestArgs(method, path, body),
    proofs: chain,
    expiration: now + REQUEST_SECONDS,
    issuedAt: now,
  });
  const bearer = await encodeContainer([inv.bytes, ...chain.map((d) => d.bytes)], "C");
  return await fetch(new URL(path, origin), {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body ? { "content-type": "application/json" } : upload ? { "content-type": "application/octet-stream" } : {}),
    },
    ...(body ? { body } : upload ? { body: upload } : {}),
    cache: "no-store",
    ...(signal ? { signal } : {}),
  });
}

/** The peer's reason for refusing `r` (its JSON error's message), if it gave one. */
export async function refusalOf(r: Response): Promise<string | undefined> {
  return await r.json().then((j: { error?: { message?: string } }) => j?.error?.message, () => undefined);
}

/**
 * Open one of a peer's live NDJSON routes (a run's log, an agent's
 * transcript), read under /weft/space/read: resolves once the peer has
 * accepted, with the lines as they arrive, each parsed and bounded.
 */
export async function readNdjson(
  request: Omit<SignedRequest, "command" | "method" | "body" | "upload">,
  maxLine: number,
): Promise<AsyncGenerator<unknown>> {
  const r = await signedFetch({ ...request, command: Commands.spaceRead, method: "GET" });
  if (!r.ok || !r.body) {
    throw new WeftError("Unavailable", "peer/unreachable", `the peer did not say (${await refusalOf(r) ?? r.status})`);
  }
  return ndjsonLines(r, maxLine);
}

/**
 * A streamed NDJSON body's lines as they arrive, each parsed; a line
 * longer than `maxLine` bytes is refused before it is whole.
 */
async function* ndjsonLines(r: Response, maxLine: number): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      try {
        yield JSON.parse(line);
      } catch {
        throw new WeftError("InvalidInput", "input/invalid", "the peer sent a line that is not JSON");
      }
    }
    if (buffered.length > maxLine) {
      throw new WeftError("InvalidInput", "input/too-large", `the peer sent a line longer than ${maxLine} bytes`);
    }
  }
}

/** A response body, refused past `max` bytes before it is all read. */
export async function readBounded(r: Response, max: number, tooBig: () => Error): Promise<Uint8Array> {
  const declared = Number(r.headers.get("content-length") ?? "0");
  if (declared > max) throw tooBig();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = r.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
