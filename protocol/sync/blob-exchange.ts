/**
 * Blobs over a sync session, by CID (runner inputs and outputs): `want`
 * asks (and may let the remote ask its own peers, `hops` further), `have`
 * answers with the bytes or without. A remote is served only if it shares
 * a space with us, and only a few requests at a time; the caller checks
 * what comes back against the CID.
 *
 * A blob larger than one frame (a container image) comes in pieces: each
 * `have` carries at most MAX_BLOB_BYTES from `offset` on, with the blob's
 * whole `size`, and the asker asks again from where the last piece ended.
 * The size a remote claims is bounded (MAX_ASSEMBLED_BYTES) and must stay
 * the same across pieces; the whole is checked against the CID by the caller.
 *
 *   {type: "want", request: n, cid, hops?, offset?}
 *   {type: "have", request: n, bytes?, size?}
 */
import { int, object, oneOf, optional, required, str } from "../schema/input-checks.ts";
import { bytes, type FrameHandler, type FrameSpec, requestId } from "./frame-checks.ts";
import type { SessionContext } from "./session-context.ts";

/** The largest piece of a blob one `have` frame carries. */
export const MAX_BLOB_BYTES = 48 * 1024 * 1024;
/** The largest blob assembled from pieces. */
export const MAX_ASSEMBLED_BYTES = 4 * 1024 * 1024 * 1024;
/** The furthest a blob request travels. */
export const MAX_BLOB_HOPS = 2;
/** Blob requests served at once per session; more are answered without bytes. */
const MAX_SERVING = 8;

const wantFrame = object({
  type: required(oneOf("want")),
  request: required(requestId),
  cid: required(str(1, 128)),
  /** How many more peers this request may be passed through. */
  hops: optional(int(0, MAX_BLOB_HOPS)),
  /** Where in the blob the answer starts (pieces after the first). */
  offset: optional(int(0, MAX_ASSEMBLED_BYTES)),
});
const haveFrame = object({
  type: required(oneOf("have")),
  request: required(requestId),
  bytes: optional(bytes(MAX_BLOB_BYTES)),
  /** The whole blob's size, when `bytes` is only a piece of it. */
  size: optional(int(0, MAX_ASSEMBLED_BYTES)),
});

export type WantFrame = ReturnType<typeof wantFrame>;
export type HaveFrame = ReturnType<typeof haveFrame>;
export type BlobFrame = WantFrame | HaveFrame;

export const blobFrames = {
  want: { check: wantFrame, stage: "ready" } as FrameSpec<WantFrame>,
  have: { check: haveFrame, stage: "ready" } as FrameSpec<HaveFrame>,
};

export class BlobExchange {
  readonly #ctx: SessionContext;
  /** Our requests waiting for an answer, by request id. */
  readonly #wants = new Map<number, (answer: HaveFrame | undefined) => void>();
  #nextRequest = 0;
  #serving = 0;
  /** The blob whose pieces the remote is asking for, kept between its requests. */
  #piecing?: { cid: string; bytes: Uint8Array };

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  readonly handlers: { want: FrameHandler<WantFrame>; have: FrameHandler<HaveFrame> } = {
    want: (frame) => void this.#onWant(frame),
    have: (frame) => this.#wants.get(frame.request)?.(frame),
  };

  /**
   * Ask the remote for a blob (which it may look for `hops` peers further);
   * undefined if it has none, goes away, or `signal` aborts first.
   */
  async want(cid: string, signal?: AbortSignal, hops = 0): Promise<Uint8Array | undefined> {
    const first = await this.#ask(cid, 0, signal, hops);
    if (!first?.bytes) return undefined;
    const size = first.size ?? first.bytes.length;
    if (size === first.bytes.length) return first.bytes;
    if (size < first.bytes.length) return undefined;
    const whole = new Uint8Array(size);
    whole.set(first.bytes);
    for (let at = first.bytes.length; at < size;) {
      const piece = await this.#ask(cid, at, signal, hops);
      // A remote that changes its story (another size, an empty or overlong piece) is not asked further.
      if (!piece?.bytes || piece.size !== size || piece.bytes.length === 0 || at + piece.bytes.length > size) {
        return undefined;
      }
      whole.set(piece.bytes, at);
      at += piece.bytes.length;
    }
    return whole;
  }

  /** One request: the piece of `cid` from `offset` on, or undefined. */
  #ask(cid: string, offset: number, signal: AbortSignal | undefined, hops: number): Promise<HaveFrame | undefined> {
    if (this.#ctx.closed() || !this.#ctx.session.ready || signal?.aborted) return Promise.resolve(undefined);
    const request = this.#nextRequest++;
    return new Promise((resolve) => {
      const done = (answer: HaveFrame | undefined) => {
        this.#wants.delete(request);
        signal?.removeEventListener("abort", abort);
        resolve(answer);
      };
      const abort = () => done(undefined);
      this.#wants.set(request, done);
      signal?.addEventListener("abort", abort, { once: true });
      this.#ctx.send({ type: "want", request, cid, ...(hops > 0 ? { hops } : {}), ...(offset > 0 ? { offset } : {}) });
    });
  }

  /** The link is gone: every request waiting gets no answer. */
  close(): void {
    for (const answer of [...this.#wants.values()]) answer(undefined);
  }

  /** Answer a blob request: only for a remote that shares a space with us, and a few at a time. */
  async #onWant(frame: WantFrame): Promise<void> {
    const { options, session } = this.#ctx;
    const offset = frame.offset ?? 0;
    let found: Uint8Array | undefined;
    if (session.spaces.size > 0 && this.#serving < MAX_SERVING && options.blobs) {
      this.#serving++;
      try {
        // Later pieces of a blob come from the copy kept for them, not from the store (or the mesh) again.
        found = offset > 0 && this.#piecing?.cid === frame.cid
          ? this.#piecing.bytes
          : await options.blobs(frame.cid, frame.hops ?? 0, session);
      } catch {
        found = undefined;
      } finally {
        this.#serving--;
      }
    } else {
      options.diagnostics.count("sync.blobs.declined");
    }
    if (found && (found.length > MAX_ASSEMBLED_BYTES || offset >= Math.max(found.length, 1))) found = undefined;
    const piece = found?.subarray(offset, offset + MAX_BLOB_BYTES);
    const more = found !== undefined && piece !== undefined && offset + piece.length < found.length;
    this.#piecing = more ? { cid: frame.cid, bytes: found! } : undefined;
    this.#ctx.send({
      type: "have",
      request: frame.request,
      ...(piece ? { bytes: piece } : {}),
      ...(found && found.length > MAX_BLOB_BYTES ? { size: found.length } : {}),
    });
    if (found) options.diagnostics.count("sync.blobs.served");
  }
}
