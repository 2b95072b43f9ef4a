/**
 * Blobs over a sync session, by CID (runner inputs and outputs): `want`
 * asks (and may let the remote ask its own peers, `hops` further), `have`
 * answers with the bytes or without. A remote is served only if it shares
 * a space with us, and only a few requests at a time; the caller checks
 * what comes back against the CID.
 *
 *   {type: "want", request: n, cid, hops?}
 *   {type: "have", request: n, bytes?}
 */
import { int, object, oneOf, optional, required, str } from "../schema/input-checks.ts";
import { bytes, type FrameHandler, type FrameSpec, requestId } from "./frame-checks.ts";
import type { SessionContext } from "./session-context.ts";

/** The largest blob one `have` frame carries. */
export const MAX_BLOB_BYTES = 48 * 1024 * 1024;
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
});
const haveFrame = object({
  type: required(oneOf("have")),
  request: required(requestId),
  bytes: optional(bytes(MAX_BLOB_BYTES)),
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
  readonly #wants = new Map<number, (bytes: Uint8Array | undefined) => void>();
  #nextRequest = 0;
  #serving = 0;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  readonly handlers: { want: FrameHandler<WantFrame>; have: FrameHandler<HaveFrame> } = {
    want: (frame) => void this.#onWant(frame),
    have: (frame) => this.#wants.get(frame.request)?.(frame.bytes),
  };

  /**
   * Ask the remote for a blob (which it may look for `hops` peers further);
   * undefined if it has none, goes away, or `signal` aborts first.
   */
  want(cid: string, signal?: AbortSignal, hops = 0): Promise<Uint8Array | undefined> {
    if (this.#ctx.closed() || !this.#ctx.session.ready || signal?.aborted) return Promise.resolve(undefined);
    const request = this.#nextRequest++;
    return new Promise((resolve) => {
      const done = (bytes: Uint8Array | undefined) => {
        this.#wants.delete(request);
        signal?.removeEventListener("abort", abort);
        resolve(bytes);
      };
      const abort = () => done(undefined);
      this.#wants.set(request, done);
      signal?.addEventListener("abort", abort, { once: true });
      this.#ctx.send({ type: "want", request, cid, ...(hops > 0 ? { hops } : {}) });
    });
  }

  /** The link is gone: every request waiting gets no answer. */
  close(): void {
    for (const answer of [...this.#wants.values()]) answer(undefined);
  }

  /** Answer a blob request: only for a remote that shares a space with us, and a few at a time. */
  async #onWant(frame: WantFrame): Promise<void> {
    const { options, session } = this.#ctx;
    let found: Uint8Array | undefined;
    if (session.spaces.size > 0 && this.#serving < MAX_SERVING && options.blobs) {
      this.#serving++;
      try {
        found = await options.blobs(frame.cid, frame.hops ?? 0, session);
      } catch {
        found = undefined;
      } finally {
        this.#serving--;
      }
    } else {
      options.diagnostics.count("sync.blobs.declined");
    }
    if (found && found.length > MAX_BLOB_BYTES) found = undefined;
    this.#ctx.send({ type: "have", request: frame.request, ...(found ? { bytes: found } : {}) });
    if (found) options.diagnostics.count("sync.blobs.served");
  }
}
