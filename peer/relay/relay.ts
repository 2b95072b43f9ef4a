/**
 * The edge relay: where browsers and NATed peers meet. It is a Weft node
 * that carries spaces without being a member of any: a member who connects
 * over WebSocket proves membership (checked against the space's root DID,
 * and its revocations once the space document is here), and from then on
 * the relay keeps that space's documents and serves them to other members
 * — and to nobody else. It holds its own key, never a user's. The same hono
 * app runs under Node, Deno (and Deno Deploy) and Cloudflare Workers; only
 * storage and serving differ per platform.
 */
import { Hono } from "hono";
import type { StorageAdapterInterface } from "@automerge/automerge-repo";
import { createNode, type WeftNode } from "#protocol/node";
import type { Keystore, Signer, Verifier } from "#protocol/identity";
import { StockWebSocketAdapter, type WebSocketLike, WebSocketNetworkAdapter } from "#protocol/sync";
import { ApiAuthority, ReplayCache } from "../api/auth.ts";
import { StorageReplayJournal } from "../storage/storage-replay-journal.ts";
import { errorBody, statusOf } from "../api/errors.ts";
import { renderMetrics } from "../daemon/metrics.ts";
import { VERSION } from "../version.ts";

export interface RelayOptions {
  signer: Signer;
  storage: StorageAdapterInterface;
  verifier?: Verifier;
  /** Only carry these spaces (DIDs); default: any space whose member connects. */
  spaces?: string[];
}

export interface Relay {
  node: WeftNode;
  app: Hono;
  /** Decide on a WebSocket upgrade to `url` (the sync endpoint). */
  upgrade(
    url: URL,
  ): Promise<{ accept: (socket: WebSocketLike, admit: () => void) => void } | { status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** A relay never creates spaces, so it needs no keystore; asking for one is a bug. */
const NO_KEYS: Keystore = {
  load: () => Promise.resolve(undefined),
  create: () => Promise.reject(new Error("a relay holds no space keys")),
};

export async function createRelay(options: RelayOptions): Promise<Relay> {
  const node = await createNode({
    signer: options.signer,
    verifier: options.verifier,
    keystore: NO_KEYS,
    storage: options.storage,
    carrier: true,
    carrierSpaces: options.spaces,
  });
  const ws = node.addNetwork((o) => new WebSocketNetworkAdapter(o));
  const stock: StockWebSocketAdapter = node.addStockWebSocket();
  // Single-use sync tokens stay used across restarts: the journal lives in the relay's own storage.
  const { journal, seen } = await StorageReplayJournal.open(options.storage, Math.floor(Date.now() / 1000));
  const auth = new ApiAuthority(node, options.verifier, new ReplayCache({ seen, journal }));
  const app = new Hono();
  app.onError((err, c) => c.json(errorBody(err), statusOf(err) as 400));
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => c.json({ ready: true }));
  app.get("/metrics", (c) => c.text(renderMetrics(node), 200, { "content-type": "text/plain; version=0.0.4" }));
  app.get(
    "/v1/node",
    (c) => c.json({ did: node.did, version: VERSION, relay: true, spaces: node.spaces().map((s) => s.id) }),
  );
  app.notFound((c) => c.json({ error: { code: "not-found", message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  return {
    node,
    app,
    async upgrade(url) {
      if (url.pathname !== "/v1/sync") {
        return {
          status: 404,
          body: { error: { code: "not-found", message: `no WebSocket endpoint ${url.pathname}` } },
        };
      }
      const token = url.searchParams.get("token");
      // A Weft session authenticates inside the socket: admitted once it proved a space.
      if (token === null) return { accept: (socket, admit) => void ws.accept(socket, admit) };
      try {
        const grant = await auth.syncToken(token);
        return {
          accept: (socket, admit) => {
            admit();
            stock.accept(socket, grant);
          },
        };
      } catch (e) {
        return { status: statusOf(e), body: errorBody(e) };
      }
    },
    stop: () => node.stop(),
  };
}
