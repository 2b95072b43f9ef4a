/**
 * A run's log lines as an AsyncIterable: lines are kept (a run's logs are
 * bounded by its output limit), so every iteration sees all of them from the
 * first, then waits for more until the run ends.
 */
import type { LogLine } from "#protocol/runner";

export class LogChannel implements AsyncIterable<LogLine> {
  readonly #lines: LogLine[] = [];
  #ended = false;
  #wake: (() => void)[] = [];

  push(line: LogLine): void {
    if (this.#ended) return;
    this.#lines.push(line);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogLine> {
    let next = 0;
    for (;;) {
      while (next < this.#lines.length) yield this.#lines[next++];
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }
}
