/**
 * automerge-repo over libp2p: one long-lived `/weft/sync/1` stream per
 * connected peer, carrying length-prefixed sync-session frames. The peer
 * with the lower DID opens the stream (so simultaneous dials cannot race);
 * the remote's DID comes from the noise-authenticated connection, and the
 * session refuses a hello that claims another. Small frames are coalesced
 * into one write per microtask (each libp2p send costs tens of µs), and
 * backpressure is honoured. The side that accepted the connection proves
 * its spaces only to a remote that proved them first. A space's gossip
 * (adverts, heads, lease renewals) travels on these streams too, only to
 * members: there is no gossipsub topic a stranger could subscribe to.
 */
import type { Connection, Libp2p, PeerId as Libp2pPeerId, Stream } from "@libp2p/interface";
import { LengthPrefixedDecoder } from "@libp2p/utils";
import { didFromPeerId } from "../identity/peer-id.ts";
import { MAX_FRAME_BYTES, SYNC_PROTOCOL } from "./frames.ts";
import { varint } from "./length-frames.ts";
import { type SessionAdapterOptions, SessionNetworkAdapter } from "./session-adapter.ts";
import type { FrameLink } from "./session.ts";

export interface Libp2pAdapterOptions extends SessionAdapterOptions {
  libp2p: Libp2p;
}

/** A FrameLink over a libp2p stream: varint-length-prefixed frames, coalesced writes. */
function streamLink(stream: Stream, onClosed: () => void): FrameLink & { onFrame(f: (b: Uint8Array) => void): void } {
  let queue: Uint8Array[] = [];
  let queued = 0;
  let flushing = false;
  let closed = false;

  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0 && !closed) {
        const parts = queue;
        const size = queued;
        queue = [];
        queued = 0;
        const buf = new Uint8Array(size);
        let o = 0;
        for (const p of parts) {
          buf.set(p, o);
          o += p.length;
        }
        if (!stream.send(buf)) await stream.onDrain();
      }
    } catch {
      closed = true;
      onClosed();
    } finally {
      flushing = false;
    }
  };

  stream.addEventListener("close", () => {
    closed = true;
    onClosed();
  });

  return {
    send(frame) {
      if (closed) return;
      const len = varint(frame.length);
      queue.push(len, frame);
      queued += len.length + frame.length;
      if (queue.length === 2) queueMicrotask(() => void flush());
    },
    close() {
      if (closed) return;
      closed = true;
      stream.close().catch(() => stream.abort(new Error("sync session closed")));
    },
    onFrame(f) {
      const decoder = new LengthPrefixedDecoder({ maxDataLength: MAX_FRAME_BYTES, maxBufferSize: MAX_FRAME_BYTES * 2 });
      stream.addEventListener("message", (e) => {
        try {
          for (const msg of decoder.decode(e.data)) f(msg.subarray());
        } catch {
          stream.abort(new Error("malformed sync frame"));
        }
      });
      if (stream.status !== "open") {
        closed = true;
        onClosed();
      }
    },
  };
}

export class Libp2pNetworkAdapter extends SessionNetworkAdapter {
  /** Peers on libp2p keep whole spaces: heads tell them what to fetch without polling. */
  override readonly carriesHeads = true;
  readonly #libp2p: Libp2p;
  /** Remote peers (libp2p id string) with a sync stream open or being opened. */
  readonly #active = new Set<string>();
  readonly #onConnect = (e: CustomEvent<Libp2pPeerId>) => void this.#maybeDial(e.detail);
  #stopped = false;

  constructor(options: Libp2pAdapterOptions) {
    super(options);
    this.#libp2p = options.libp2p;
  }

  protected start(): void {
    void this.#libp2p.handle(SYNC_PROTOCOL, (stream, connection) => this.#run(stream, connection), {
      maxInboundStreams: 4,
      maxOutboundStreams: 4,
      force: true,
    }).then(() => {
      this.#libp2p.addEventListener("peer:connect", this.#onConnect);
      for (const peer of this.#libp2p.getPeers()) void this.#maybeDial(peer);
      this.markReady();
    });
  }

  /** The lower DID opens the stream, on the connection it has; retried while the peer stays connected. */
  async #maybeDial(peer: Libp2pPeerId, attempt = 0): Promise<void> {
    let remoteDid: string;
    try {
      remoteDid = didFromPeerId(peer);
    } catch {
      return; // not an Ed25519 peer: not a Weft node
    }
    const key = peer.toString();
    if (this.#stopped || this.#active.has(key) || this.options.did >= remoteDid) return;
    // Only over a connection that is up: a peer that hung up (or was hung up on) is not dialed again from here.
    const connection = this.#libp2p.getConnections(peer).find((c) => c.status === "open");
    if (connection === undefined) return;
    this.#active.add(key);
    try {
      const signal = AbortSignal.timeout(10_000);
      this.#run(await connection.newStream(SYNC_PROTOCOL, { signal }), connection, true);
    } catch {
      this.#active.delete(key);
      if (!this.#stopped && attempt < 6 && this.#libp2p.getConnections(peer).length > 0) {
        setTimeout(() => void this.#maybeDial(peer, attempt + 1), 250 * 2 ** attempt);
      }
    }
  }

  /**
   * Run a session on `stream`. Whoever opened the stream, the side that
   * accepted the connection withholds its proofs (SessionOptions.withhold):
   * a stranger that dials a member learns nothing of its spaces.
   */
  #run(stream: Stream, connection: Connection, dialed = false): void {
    const peer = connection.remotePeer;
    let remoteDid: string;
    try {
      remoteDid = didFromPeerId(peer);
    } catch {
      stream.abort(new Error("not a Weft peer"));
      return;
    }
    const key = peer.toString();
    this.#active.add(key);
    const link = streamLink(stream, () => {
      session.close();
      this.#active.delete(key);
      // The connection may outlive the stream (e.g. the remote restarted its repo): try again.
      if (dialed && !this.#stopped && this.#libp2p.getConnections(peer).length > 0) {
        setTimeout(() => void this.#maybeDial(peer), 500);
      }
    });
    const session = this.openSession(link, {
      expectedRemoteDid: remoteDid,
      withhold: connection.direction === "inbound",
    });
    link.onFrame((frame) => void session.receive(frame));
  }

  protected stop(): void {
    this.#stopped = true;
    this.#libp2p.removeEventListener("peer:connect", this.#onConnect);
    void this.#libp2p.unhandle(SYNC_PROTOCOL).catch(() => {});
  }
}
