/**
 * The serving side every members-only libp2p protocol shares (`/weft/git/1`,
 * `/weft/transcript/1`). The order is the security: the opening frame is
 * read bounded and checked; the asker must have proved `/weft/space/sync`
 * for the space on a live session with this node (the node's own record, by
 * the DID its connection authenticated, never what it says) — otherwise it
 * is refused and nothing else happens, so a non-member learns nothing. Then
 * a few requests are served at once, each re-checked for membership while
 * it runs and cut off (its signal aborted, its stream with it) when the
 * asker stops holding the space or the server stops.
 */
import type { Connection, Stream } from "@libp2p/interface";
import { type ErrorCode, isWeftError, messageOf, type WeftError } from "#protocol";
import { didFromPeerId, type WeftNode } from "#protocol/node";

/** One protocol's parts: how it reads its opening, answers a refusal and serves a member. */
export interface MembersOnlyProtocol<Opening extends { request: { space: string } }> {
  /** The libp2p protocol id. */
  protocol: string;
  /** Its name in diagnostics and refusals: "git", "transcript". */
  name: string;
  /** What is served, in the busy refusal: "git transfers", "transcripts". */
  plural: string;
  /** Requests served at once; more askers are told to retry with `busyCode`. */
  maxConcurrent: number;
  maxInboundStreams: number;
  busyCode: ErrorCode;
  /** How long an asker has to send its opening frame, in ms. */
  openingMs: number;
  /** How often a running request re-checks that its asker still holds the space, in ms. */
  membershipCheckMs: number;
  /** Read and decode the opening (bounded); throw a WeftError for a bad one. */
  open(stream: Stream, openingMs: number): Promise<Opening>;
  /** The error a protocol failure or a cut-off is reported as. */
  error(code: ErrorCode, message: string): WeftError;
  /** What a refused request was for, in diagnostics ("git app"). */
  describe(request: Opening["request"]): string;
  /** Send a refusal and close this side. */
  answer(stream: Stream, code: ErrorCode, message: string): void;
  /**
   * Serve a member. `refuse` answers a refusal (recorded in diagnostics);
   * `signal` aborts when the asker is cut off or the server stops.
   */
  serve(
    stream: Stream,
    opening: Opening,
    context: { from: string; signal: AbortSignal; refuse: (code: ErrorCode, message: string) => void },
  ): Promise<void>;
}

export interface MembersOnlyServer {
  /** Requests served now. */
  readonly running: number;
  /** Stop serving and cut off every request still running. */
  stop(): Promise<void>;
}

/** Serve `p` on `node`'s libp2p, to members of the space each request names. */
export async function serveMembersOnly<Opening extends { request: { space: string } }>(
  node: WeftNode,
  p: MembersOnlyProtocol<Opening>,
): Promise<MembersOnlyServer> {
  const libp2p = node.libp2p;
  if (!libp2p) throw p.error("p2p/disabled", `this node has no libp2p to serve ${p.plural} on`);
  const running = new Set<AbortController>();
  let stopped = false;

  const refuse = (stream: Stream, from: string, code: ErrorCode, message: string, request?: Opening["request"]) => {
    node.diagnostics.refuse({
      kind: "sync",
      from,
      what: request ? p.describe(request) : p.name,
      code,
      reason: message,
      ...(request ? { space: request.space } : {}),
    });
    p.answer(stream, code, message);
  };

  const handle = async (stream: Stream, connection: Connection): Promise<void> => {
    let from: string;
    try {
      from = didFromPeerId(connection.remotePeer);
    } catch {
      stream.abort(new Error("not a Weft peer"));
      return;
    }
    let opening: Opening;
    try {
      opening = await p.open(stream, p.openingMs);
    } catch (e) {
      const error = isWeftError(e) ? e : p.error("sync/protocol", messageOf(e));
      return refuse(stream, from, error.code, error.message);
    }
    const { request } = opening;
    if (!node.provedSpace(from, request.space)) {
      return refuse(
        stream,
        from,
        "sync/refused",
        `${from} has not proved membership of ${request.space} on a live session with this node: join the space, or reconnect so the session proves it`,
        request,
      );
    }
    if (stopped) return refuse(stream, from, p.busyCode, "this node is stopping", request);
    if (running.size >= p.maxConcurrent) {
      return refuse(stream, from, p.busyCode, `serving ${p.maxConcurrent} ${p.plural} already: retry shortly`, request);
    }
    const cancel = new AbortController();
    running.add(cancel);
    const membership = setInterval(() => {
      if (node.provedSpace(from, request.space)) return;
      const error = p.error(
        "sync/refused",
        `${from} no longer holds ${request.space}: the ${p.name} stream was cut off`,
      );
      node.diagnostics.count(`${p.name}.cut-off.sync/refused`);
      cancel.abort(error);
      stream.abort(error);
    }, p.membershipCheckMs);
    try {
      await p.serve(stream, opening, {
        from,
        signal: cancel.signal,
        refuse: (code, message) => refuse(stream, from, code, message, request),
      });
    } catch (e) {
      if (!cancel.signal.aborted) stream.abort(e as Error);
    } finally {
      clearInterval(membership);
      cancel.abort();
      running.delete(cancel);
    }
  };

  await libp2p.handle(p.protocol, (stream, connection) => void handle(stream, connection), {
    maxInboundStreams: p.maxInboundStreams,
    force: true,
  });

  return {
    get running() {
      return running.size;
    },
    async stop() {
      stopped = true;
      await libp2p.unhandle(p.protocol).catch(() => {});
      for (const cancel of [...running]) cancel.abort(p.error(p.busyCode, "the server stopped"));
    },
  };
}
