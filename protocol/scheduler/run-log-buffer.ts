/**
 * The log of one run as this node sees it: lines kept in a bounded buffer
 * (the oldest dropped first, with a count of what was dropped), followers
 * who get every new line as it arrives, and an end, after which following
 * stops. Used to stream a job's output while it runs.
 */
import type { LogLine } from "../runner/runner.ts";

export class RunLog {
  readonly #lines: LogLine[] = [];
  readonly #maxBytes: number;
  #bytes = 0;
  #dropped = 0;
  #ended = false;
  readonly #followers = new Set<{ push(line: LogLine): void; end(): void }>();

  constructor(maxBytes = 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Lines dropped from the front to stay within the buffer. */
  get dropped(): number {
    return this.#dropped;
  }

  lines(): readonly LogLine[] {
    return this.#lines;
  }

  push(line: LogLine): void {
    if (this.#ended) return;
    this.#lines.push(line);
    this.#bytes += line.text.length;
    while (this.#bytes > this.#maxBytes && this.#lines.length > 1) {
      this.#bytes -= (this.#lines.shift() as LogLine).text.length;
      this.#dropped++;
    }
    for (const f of this.#followers) f.push(line);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const f of this.#followers) f.end();
    this.#followers.clear();
  }

  /** Every buffered line; with `follow`, then each new one until the run ends or `signal` aborts. */
  async *read(follow: boolean, signal?: AbortSignal): AsyncGenerator<LogLine> {
    const queue: LogLine[] = [...this.#lines];
    let ended = this.#ended || !follow;
    let wake: (() => void) | undefined;
    const follower = {
      push: (line: LogLine) => {
        queue.push(line);
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    };
    const onAbort = () => follower.end();
    if (!ended) this.#followers.add(follower);
    signal?.addEventListener("abort", onAbort);
    try {
      while (true) {
        while (queue.length > 0) yield queue.shift() as LogLine;
        if (ended || signal?.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.#followers.delete(follower);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
