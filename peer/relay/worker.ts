/**
 * The relay on Cloudflare Workers: one Durable Object holds the relay node
 * (WebSockets need a single long-lived owner), its documents in the
 * object's transactional storage. The Worker forwards every request to it.
 * Its key is the secret WEFT_RELAY_KEY (base64url 32-byte seed). See
 * deploy/relay/wrangler.toml.
 */
import { createRelay, type Relay } from "./relay.ts";
import { defaultVerifier, signerFromSeed } from "#protocol/identity";
import { fromBase64Url } from "#protocol";
import { KvStorageAdapter, type KvStore } from "#protocol/storage";
import type { WebSocketLike } from "#protocol/sync";

interface DurableObjectStorage {
  get(key: string): Promise<unknown>;
  list(options: { prefix: string }): Promise<Map<string, unknown>>;
  transaction<T>(
    fn: (txn: { put(e: Record<string, unknown>): Promise<void>; delete(k: string[]): Promise<number> }) => Promise<T>,
  ): Promise<T>;
}
interface DurableObjectState {
  storage: DurableObjectStorage;
}
interface Env {
  WEFT_RELAY_KEY: string;
  WEFT_RELAY_SPACES?: string;
  WEFT_RELAY: { idFromName(name: string): unknown; get(id: unknown): { fetch(req: Request): Promise<Response> } };
}
declare const WebSocketPair: { new (): Record<0 | 1, WebSocket & { accept(): void }> };

const SEP = "\u0001";

/** Durable Object storage as a KvStore: string keys, 128 KiB values, 128 entries per write. */
function durableObjectKv(storage: DurableObjectStorage): KvStore {
  const bytes = (
    v: unknown,
  ) => (v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : undefined);
  return {
    maxValueBytes: 120 * 1024,
    maxBatch: 100,
    async get(key) {
      return bytes(await storage.get(key.join(SEP)));
    },
    async *list(prefix) {
      const p = prefix.join(SEP);
      if (prefix.length > 0) {
        const exact = bytes(await storage.get(p));
        if (exact) yield { key: prefix, value: exact };
      }
      for (const [k, v] of await storage.list({ prefix: prefix.length ? p + SEP : "" })) {
        const value = bytes(v);
        if (value) yield { key: k.split(SEP), value };
      }
    },
    commit: (puts, deletes) =>
      storage.transaction(async (txn) => {
        if (deletes.length) await txn.delete(deletes.map((k) => k.join(SEP)));
        if (puts.length) await txn.put(Object.fromEntries(puts.map((p) => [p.key.join(SEP), p.value])));
      }),
  };
}

export class WeftRelayObject {
  readonly #state: DurableObjectState;
  readonly #env: Env;
  #relay?: Promise<Relay>;

  constructor(state: DurableObjectState, env: Env) {
    this.#state = state;
    this.#env = env;
  }

  async #start(): Promise<Relay> {
    const seed = fromBase64Url(this.#env.WEFT_RELAY_KEY ?? "");
    if (seed.length !== 32) throw new Error("WEFT_RELAY_KEY must hold a 32-byte Ed25519 seed (base64url)");
    const spaces = this.#env.WEFT_RELAY_SPACES?.split(",").map((s) => s.trim()).filter(Boolean);
    return await createRelay({
      signer: await signerFromSeed(seed),
      verifier: await defaultVerifier(),
      storage: new KvStorageAdapter(durableObjectKv(this.#state.storage)),
      ...(spaces?.length ? { spaces } : {}),
    });
  }

  async fetch(request: Request): Promise<Response> {
    const relay = await (this.#relay ??= this.#start());
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return await relay.app.fetch(request);
    const decision = await relay.upgrade(new URL(request.url));
    if (!("accept" in decision)) return Response.json(decision.body, { status: decision.status });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    server.accept();
    // Workers cap a WebSocket message at 1 MiB themselves; there is nothing more to lift once it authenticates.
    decision.accept(server as unknown as WebSocketLike, () => {});
    return new Response(null, { status: 101, webSocket: client } as ResponseInit);
  }
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return env.WEFT_RELAY.get(env.WEFT_RELAY.idFromName("relay")).fetch(request);
  },
};
