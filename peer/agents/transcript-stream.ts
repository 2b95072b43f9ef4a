/**
 * Frames on a `/weft/transcript/1` libp2p stream, both ways: a reader that
 * splits what arrives into length-prefixed frames (each refused on its
 * prefix when over the limit), holds at most a few of them, pausing the
 * remote meanwhile (yamux withholds its window), and counts the bytes
 * against the stream's total, keeping nothing once a limit tripped; and a
 * send that waits while the stream's send buffer is full.
 */
import type { Stream } from "@libp2p/interface";
import { TranscriptError } from "#protocol/agents";
import { splitFrame } from "#protocol/sync";

/** Frames held before the remote is paused. */
const HELD_FRAMES = 16;

export class FrameReader {
  readonly #stream: Stream;
  readonly #maxFrame: number;
  readonly #maxTotal: number;
  #buffer: Uint8Array = new Uint8Array(0);
  readonly #frames: Uint8Array[] = [];
  #total = 0;
  #ended = false;
  #error?: Error;
  #wake?: () => void;
  readonly #onFail?: (error: Error) => void;

  /** `onFail` hears of a limit tripped (the owner decides whether to answer first or abort at once). */
  constructor(stream: Stream, maxFrame: number, maxTotal: number, onFail?: (error: Error) => void) {
    this.#stream = stream;
    this.#maxFrame = maxFrame;
    this.#maxTotal = maxTotal;
    this.#onFail = onFail;
    stream.addEventListener("message", (e) => {
      const data = e.data instanceof Uint8Array ? e.data : e.data.subarray();
      this.#take(data);
    });
    stream.addEventListener("remoteCloseWrite", () => this.#end());
    stream.addEventListener("close", () => this.#end());
    if (stream.readStatus !== "readable" && stream.readStatus !== "paused") this.#end();
  }

  #take(chunk: Uint8Array): void {
    if (this.#error) return;
    this.#total += chunk.length;
    if (this.#total > this.#maxTotal) {
      return this.#fail(new TranscriptError("transcript/cut", `the peer sent more than ${this.#maxTotal} bytes`));
    }
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    try {
      for (
        let split = splitFrame(this.#buffer, this.#maxFrame);
        split;
        split = splitFrame(split.rest, this.#maxFrame)
      ) {
        this.#frames.push(split.frame.slice());
        this.#buffer = split.rest;
      }
    } catch (e) {
      return this.#fail(e as Error);
    }
    if (this.#frames.length >= HELD_FRAMES && this.#stream.readStatus === "readable") this.#stream.pause();
    this.#wake?.();
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#onFail?.(error);
    this.#wake?.();
  }

  #end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  /** The next frame; undefined once the remote ended its side. Throws when a limit trips or `timeoutMs` passes. */
  async next(timeoutMs?: number): Promise<Uint8Array | undefined> {
    const timer = timeoutMs === undefined ? undefined : setTimeout(
      () => this.#fail(new TranscriptError("transcript/unreachable", `no frame within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      while (true) {
        if (this.#error) throw this.#error;
        const frame = this.#frames.shift();
        if (frame) {
          if (this.#frames.length < HELD_FRAMES / 2 && this.#stream.readStatus === "paused") this.#stream.resume();
          return frame;
        }
        if (this.#ended) return undefined;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Send one frame, waiting while the stream's send buffer is full. */
export async function sendFrame(stream: Stream, frame: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (!stream.send(frame)) await stream.onDrain(signal ? { signal } : {});
}
