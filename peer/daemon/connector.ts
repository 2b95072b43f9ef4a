/**
 * Keeping a peer connected to the addresses it was told about (bootstrap
 * peers, `weft join`): libp2p multiaddrs are redialed with exponential
 * backoff whenever the connection drops; ws:// URLs go to the WebSocket
 * transport, which reconnects by itself. A ws:// URL is dialed as a carrier
 * (a relay, deploy/relay/README.md): the operator chose it, so the spaces it
 * accepts this node's proofs for are shared with it though it is no member.
 * A relay needs that to host a space (a member peer at such a URL shares the
 * space with us either way). Whatever answers at the URL can read what it is
 * given, not forge it (every operation is signed): join only relays you trust
 * with your spaces' documents, and restrict a relay with WEFT_RELAY_SPACES.
 */
import { multiaddr } from "@multiformats/multiaddr";
import type { WeftLibp2p } from "#protocol/node";
import type { WebSocketNetworkAdapter } from "#protocol/sync";
import { WeftError } from "#protocol";
import type { Logger } from "./logger.ts";

export class Connector {
  readonly #libp2p?: WeftLibp2p;
  readonly #ws: WebSocketNetworkAdapter;
  readonly #log: Logger;
  readonly #targets = new Map<string, { attempt: number; timer?: ReturnType<typeof setTimeout>; peer?: string }>();
  #stopped = false;
  readonly #onDisconnect = (e: CustomEvent<{ toString(): string }>) => {
    for (const [addr, t] of this.#targets) if (t.peer === e.detail.toString()) this.#schedule(addr);
  };

  constructor(options: { libp2p?: WeftLibp2p; ws: WebSocketNetworkAdapter; log: Logger }) {
    this.#libp2p = options.libp2p;
    this.#ws = options.ws;
    this.#log = options.log;
    this.#libp2p?.addEventListener("peer:disconnect", this.#onDisconnect as EventListener);
  }

  /** Connect now (resolving when the first attempt settles) and keep reconnecting after. */
  async add(address: string): Promise<void> {
    if (/^wss?:\/\//.test(address)) {
      this.#ws.connectTo(address, { carrier: true });
      return;
    }
    if (!this.#libp2p) throw new WeftError("NoLibp2p", "p2p/disabled", "this node has no libp2p transports");
    let ma;
    try {
      ma = multiaddr(address);
    } catch {
      throw new WeftError("InvalidInput", "input/address", `${address} is not a multiaddr or ws:// URL`);
    }
    if (!this.#targets.has(address)) this.#targets.set(address, { attempt: 0 });
    await this.#dial(address, ma.toString());
  }

  async #dial(address: string, ma: string): Promise<void> {
    const t = this.#targets.get(address);
    if (!t || this.#stopped) return;
    try {
      const conn = await this.#libp2p!.dial(multiaddr(ma), { signal: AbortSignal.timeout(10_000) });
      t.peer = conn.remotePeer.toString();
      t.attempt = 0;
      this.#log.info("connected", { address, peer: t.peer });
    } catch (e) {
      this.#log.warn("dial failed", { address, error: (e as Error).message, retryInS: this.#delay(t.attempt) / 1000 });
      this.#schedule(address);
    }
  }

  #delay(attempt: number): number {
    return Math.min(60_000, 500 * 2 ** attempt);
  }

  #schedule(address: string): void {
    const t = this.#targets.get(address);
    if (!t || this.#stopped || t.timer) return;
    const delay = this.#delay(t.attempt++) * (0.75 + Math.random() / 2);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      void this.#dial(address, address);
    }, delay);
  }

  stop(): void {
    this.#stopped = true;
    this.#libp2p?.removeEventListener("peer:disconnect", this.#onDisconnect as EventListener);
    for (const t of this.#targets.values()) clearTimeout(t.timer);
  }
}
