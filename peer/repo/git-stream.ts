/**
 * Moving git's bytes over a `/weft/git/1` libp2p stream: read its opening
 * frame (bounded, before anything after it is read), then pipe the stream
 * to and from a git process (or the asking peer's reader of a fetch answer)
 * with backpressure both ways, and a watchdog that ends the transfer when
 * it moves too many bytes, makes no progress for too long, or runs too long.
 */
import type { Stream } from "@libp2p/interface";
import type { Readable, Writable } from "node:stream";
import { Uint8ArrayList } from "uint8arraylist";
import { GitTransferError, splitFrame } from "#protocol/sync";

/** What one transfer may take. */
export interface GitLimits {
  /** Bytes moved both ways, at most. */
  maxBytes: number;
  /** The longest time without a byte moving either way, in ms. */
  idleMs: number;
  /** The longest a transfer may take, in ms. */
  maxMs: number;
}

export const DEFAULT_GIT_LIMITS: GitLimits = {
  maxBytes: 8 * 1024 ** 3,
  idleMs: 60_000,
  maxMs: 30 * 60_000,
};

/**
 * The most a paused stream may hold: yamux lets a remote send up to its
 * window (at most 16 MiB) after we stop granting more.
 */
const READ_BUFFER_BYTES = 64 * 1024 * 1024;

/** How far a slow sink (git's stdin, the reader of a fetch answer) may fall behind before the stream is paused. */
const SINK_BUFFER_BYTES = 4 * 1024 * 1024;

/** The most one send to the stream carries (see pipeToStream). */
const SEND_BYTES = 1024 * 1024;
/** A turn that brought less than this is followed by a pause to gather more (see pipeToStream). */
const SMALL_TURN_BYTES = 64 * 1024;
/** How long `source` is left unread to gather more, in ms. */
const GATHER_MS = 1;

function bytesOf(data: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

/** Prepare a git stream: room for what yamux may still deliver after a pause. */
export function prepareStream(stream: Stream): void {
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, READ_BUFFER_BYTES);
}

/**
 * Counts the bytes of one transfer and ends it (`onLimit`) at the first
 * limit it hits. `progress` is called for every chunk moved either way.
 */
export class Watchdog {
  readonly #limits: GitLimits;
  readonly #onLimit: (error: GitTransferError) => void;
  readonly #idle: ReturnType<typeof setTimeout>;
  readonly #deadline: ReturnType<typeof setTimeout>;
  #bytes = 0;
  #done = false;

  constructor(limits: GitLimits, onLimit: (error: GitTransferError) => void) {
    this.#limits = limits;
    this.#onLimit = onLimit;
    this.#idle = setTimeout(
      () => this.#trip("git/stalled", `no bytes moved for ${limits.idleMs} ms`),
      limits.idleMs,
    );
    this.#deadline = setTimeout(
      () => this.#trip("git/stalled", `the transfer ran past its limit of ${limits.maxMs} ms`),
      limits.maxMs,
    );
  }

  get bytes(): number {
    return this.#bytes;
  }

  progress(n: number): void {
    if (this.#done) return;
    this.#bytes += n;
    if (this.#bytes > this.#limits.maxBytes) {
      this.#trip("git/too-large", `the transfer moved more than its limit of ${this.#limits.maxBytes} bytes`);
      return;
    }
    this.#idle.refresh();
  }

  #trip(code: "git/stalled" | "git/too-large", message: string): void {
    if (this.#done) return;
    this.stop();
    this.#onLimit(new GitTransferError(code, `${message}; the peer was cut off`));
  }

  stop(): void {
    this.#done = true;
    clearTimeout(this.#idle);
    clearTimeout(this.#deadline);
  }
}

/**
 * Read the first length-prefixed frame of `stream` (at most `max` bytes)
 * and stop listening: what follows stays in the stream's buffer (bounded
 * by it) until it is piped on, plus `rest`, what came with the frame.
 */
export function readOpening(
  stream: Stream,
  max: number,
  timeoutMs: number,
): Promise<{ body: Uint8Array; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let buffer = new Uint8Array(0);
    const finish = (error?: Error, result?: { body: Uint8Array; rest: Uint8Array }) => {
      clearTimeout(timer);
      stream.removeEventListener("message", onMessage);
      stream.removeEventListener("close", onClose);
      stream.removeEventListener("end", onClose);
      if (error) reject(error);
      else resolve(result!);
    };
    const onMessage = (e: { data: Uint8Array | { subarray(): Uint8Array } }) => {
      const chunk = bytesOf(e.data);
      const joined = new Uint8Array(buffer.length + chunk.length);
      joined.set(buffer);
      joined.set(chunk, buffer.length);
      buffer = joined;
      try {
        const split = splitFrame(buffer, max);
        if (split) finish(undefined, { body: split.frame, rest: split.rest });
        else if (buffer.length > max + 8) throw new GitTransferError("input/too-large", `opening exceeds ${max} bytes`);
      } catch (error) {
        finish(error as Error);
      }
    };
    const onClose = () => finish(new GitTransferError("git/unreachable", "the stream closed before its opening frame"));
    const timer = setTimeout(
      () => finish(new GitTransferError("git/stalled", `no opening frame within ${timeoutMs} ms`)),
      timeoutMs,
    );
    stream.addEventListener("message", onMessage);
    stream.addEventListener("close", onClose);
    stream.addEventListener("end", onClose);
    if (stream.readableEnded || stream.status !== "open") onClose();
  });
}

/**
 * Pipe what the remote sends (after `rest`) into `sink`, pausing the
 * stream while `sink` is full; end `sink` when the remote ends its side.
 */
export function pipeFromStream(stream: Stream, rest: Uint8Array, sink: Writable, watchdog: Watchdog): void {
  const write = (chunk: Uint8Array) => {
    watchdog.progress(chunk.length);
    // Paused only when well behind: pausing at the sink's small high-water mark would stop and start
    // the remote (yamux withholds its window) on nearly every chunk.
    if (!sink.write(chunk) && sink.writableLength >= SINK_BUFFER_BYTES && stream.readStatus === "readable") {
      stream.pause();
    }
  };
  sink.on("drain", () => {
    if (stream.readStatus === "paused") stream.resume();
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    sink.end();
  };
  if (rest.length > 0) write(rest);
  stream.addEventListener("message", (e) => {
    // A list of chunks (what piled up while paused) is written chunk by chunk, in one writev, not copied whole.
    if (e.data instanceof Uint8Array) return write(e.data);
    sink.cork();
    for (const chunk of e.data) write(chunk);
    sink.uncork();
  });
  // "end": the remote closed its side and everything it sent was delivered (none left paused in the buffer).
  stream.addEventListener("end", end);
  // A stream closed cleanly may still hold data paused in its buffer ("end" follows it); a reset holds none.
  stream.addEventListener("close", () => {
    if (stream.status !== "closed") end();
  });
  if (stream.readableEnded) end();
}

/**
 * Pipe `source` to the remote, holding `source` while the stream's send
 * buffer is full; close our side of the stream when `source` ends.
 * What `source` gives within one turn of the event loop goes out as one
 * send (up to SEND_BYTES): one yamux frame, one window update back, fewer
 * noise messages and events per byte than a send per pipe read. When a
 * turn brought little (git writes its pack in 8 KiB pieces, and this
 * process reads each as it comes), `source` is left unread for GATHER_MS
 * so the next read takes what piled up meanwhile in the pipe's buffer:
 * fewer, larger reads and sends; git does not block on a buffer that
 * holds far more than it writes in that time.
 * `onError` hears of a stream that can no longer be written.
 */
export function pipeToStream(source: Readable, stream: Stream, watchdog: Watchdog, onError: (e: Error) => void): void {
  let pending = new Uint8ArrayList();
  let scheduled = false;
  /** Reasons `source` is paused (the stream's buffer is full; gathering): it resumes when none is left. */
  let holds = 0;
  const hold = () => {
    if (holds++ === 0) source.pause();
  };
  const release = () => {
    if (--holds === 0) source.resume();
  };
  const flush = () => {
    scheduled = false;
    const bytes = pending.byteLength;
    if (bytes === 0) return;
    // libp2p's stream types name uint8arraylist 3, the package here is 2: the stream takes either (it knows a
    // list by the symbol both versions carry), so only the type is converted.
    const data = pending as unknown as Parameters<Stream["send"]>[0];
    pending = new Uint8ArrayList();
    try {
      if (!stream.send(data)) {
        hold();
        stream.onDrain().then(release, onError);
      } else if (bytes < SMALL_TURN_BYTES && !source.readableEnded) {
        hold();
        setTimeout(release, GATHER_MS);
      }
    } catch (e) {
      onError(e as Error);
    }
  };
  source.on("data", (chunk: Uint8Array) => {
    watchdog.progress(chunk.length);
    pending.append(chunk);
    if (pending.byteLength >= SEND_BYTES) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  source.on("end", () => {
    flush();
    stream.close().catch(onError);
  });
  source.resume();
}
