/**
 * Sync sessions over WebSockets: how browsers reach a peer or relay, and
 * how a relay or daemon accepts them. Uses only the standard WebSocket
 * interface (browsers, Deno, Node >= 22, `ws`, workers), one binary message
 * per frame. Outgoing connections reconnect with exponential backoff; the
 * remote's identity is established by the session's signed proofs, since
 * the socket itself authenticates nobody.
 */
import { type SessionAdapterOptions, SessionNetworkAdapter } from "./session-adapter.ts";
import type { SyncSession } from "./session.ts";

/** The subset of the standard WebSocket API this adapter uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (e: { data: unknown }) => void): void;
}

export interface WebSocketAdapterOptions extends SessionAdapterOptions {
  /** For outgoing connections: how to open a socket (default: the global WebSocket). */
  open?: (url: string) => WebSocketLike;
  /** Longest wait between reconnection attempts (ms). */
  maxBackoffMs?: number;
}

const OPEN = 1;

export class WebSocketNetworkAdapter extends SessionNetworkAdapter {
  readonly #open: (url: string) => WebSocketLike;
  readonly #maxBackoff: number;
  readonly #sockets = new Set<WebSocketLike>();
  readonly #dialing = new Map<string, { stop: boolean; timer?: ReturnType<typeof setTimeout> }>();
  readonly #pending: Array<() => void> = [];
  #started = false;
  #stopped = false;
  /** Connection state of each outgoing URL, for honest UI. */
  readonly status = new Map<string, "connecting" | "open" | "closed">();
  /** The latest session on each outgoing URL. */
  readonly #sessionOf = new Map<string, SyncSession>();

  constructor(options: WebSocketAdapterOptions) {
    super(options);
    this.#open = options.open ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
    this.#maxBackoff = options.maxBackoffMs ?? 30_000;
  }

  protected start(): void {
    this.#started = true;
    for (const p of this.#pending.splice(0)) p();
    this.markReady();
  }

  protected stop(): void {
    this.#stopped = true;
    for (const d of this.#dialing.values()) {
      d.stop = true;
      clearTimeout(d.timer);
    }
    for (const s of this.#sockets) s.close(1000, "node stopping");
    this.#sockets.clear();
  }

  /**
   * Keep a connection to `url`, reconnecting with backoff until
   * `disconnectFrom` or stop. `carrier`: the remote is a relay, trusted to
   * carry the spaces it accepts (see SessionOptions.carrier).
   */
  connectTo(url: string, options: { carrier?: boolean } = {}): void {
    if (this.#dialing.has(url)) return;
    const state: { stop: boolean; timer?: ReturnType<typeof setTimeout> } = { stop: false };
    this.#dialing.set(url, state);
    let attempt = 0;
    const dial = () => {
      if (state.stop || this.#stopped) return;
      this.status.set(url, "connecting");
      let socket: WebSocketLike;
      try {
        socket = this.#open(url);
      } catch {
        retry();
        return;
      }
      socket.addEventListener("open", () => {
        attempt = 0;
        this.status.set(url, "open");
      });
      this.#run(
        socket,
        () => {
          this.status.set(url, "closed");
          retry();
        },
        options.carrier,
        false,
        undefined,
        (session) => this.#sessionOf.set(url, session),
      );
    };
    const retry = () => {
      if (state.stop || this.#stopped) return;
      const delay = Math.min(this.#maxBackoff, 250 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      state.timer = setTimeout(dial, delay);
    };
    if (this.#started) dial();
    else this.#pending.push(dial);
  }

  disconnectFrom(url: string): void {
    const state = this.#dialing.get(url);
    if (!state) return;
    state.stop = true;
    clearTimeout(state.timer);
    this.#dialing.delete(url);
    this.#sessionOf.delete(url);
  }

  /**
   * The DID the remote at `url` proved in its session's handshake, while
   * that session is up: who a request to that peer's API is addressed to.
   */
  remoteDidAt(url: string): string | undefined {
    const session = this.#sessionOf.get(url);
    return session?.ready && this.status.get(url) === "open" ? session.remoteDid : undefined;
  }

  /**
   * Serve a socket a server accepted (a browser, a NATed peer);
   * `onAdmitted` is called once its remote has proved a space.
   */
  accept(socket: WebSocketLike, onAdmitted?: () => void): SyncSession | undefined {
    return this.#run(socket, undefined, false, true, onAdmitted);
  }

  /** `withhold`: the remote connected to us (see SessionOptions.withhold); `onSession` gets the session once open. */
  #run(
    socket: WebSocketLike,
    onGone?: () => void,
    carrier = false,
    withhold = false,
    onAdmitted?: () => void,
    onSession?: (session: SyncSession) => void,
  ): SyncSession | undefined {
    socket.binaryType = "arraybuffer";
    this.#sockets.add(socket);
    let session: SyncSession | undefined;
    let gone = false;
    const begin = () => {
      session = this.openSession(
        {
          send: (frame) => {
            if (socket.readyState === OPEN) socket.send(frame);
          },
          close: () => socket.close(1000, "session closed"),
        },
        { carrier, withhold, onAdmitted },
      );
      onSession?.(session);
    };
    const end = () => {
      if (gone) return;
      gone = true;
      this.#sockets.delete(socket);
      session?.close();
      onGone?.();
    };
    socket.addEventListener("message", (e) => {
      const data = e.data;
      if (data instanceof ArrayBuffer) void session?.receive(new Uint8Array(data));
      else if (data instanceof Uint8Array) void session?.receive(data);
      else session?.close(); // text frames are not part of the protocol
    });
    socket.addEventListener("close", end);
    socket.addEventListener("error", end);
    if (socket.readyState === OPEN) begin();
    else socket.addEventListener("open", begin);
    return session;
  }
}
