/**
 * The daemon's parts as a list with one start/stop order: each part is
 * started in turn and stopped in reverse, so nothing is stopped while a part
 * started after it still uses it. A part that fails to start stops the ones
 * before it and fails the start naming the part; a part that fails to stop
 * is reported (with what to do) and the others still stop.
 */
import { isWeftError, WeftError } from "#protocol";
import type { Logger } from "./logger.ts";

export class StartError extends WeftError {
  readonly part: string;
  constructor(part: string, cause: unknown) {
    const reason = (cause as Error)?.message ?? String(cause);
    super(
      "StartError",
      "daemon/start-failed",
      `could not start ${part}: ${reason}` + (isWeftError(cause) ? "" : " (fix that and start again)") +
        "; the parts started before it were stopped again",
      { cause },
    );
    this.part = part;
  }
}

export class Lifecycle {
  readonly #log: Logger;
  readonly #started: Array<{ part: string; stop: () => unknown }> = [];
  #stopping?: Promise<void>;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Names of the parts started so far, in order. */
  get parts(): string[] {
    return this.#started.map((s) => s.part);
  }

  /**
   * Start one part; `stop` (given what `start` returned) runs when the daemon
   * stops. If `start` throws, everything started so far is stopped and the
   * start fails with a StartError naming the part.
   */
  async start<T>(part: string, start: () => T | Promise<T>, stop?: (value: T) => unknown): Promise<T> {
    if (this.#stopping) throw new StartError(part, new Error("the daemon is stopping"));
    let value: T;
    try {
      value = await start();
    } catch (e) {
      await this.stop();
      throw new StartError(part, e);
    }
    if (stop) this.#started.push({ part, stop: () => stop(value) });
    return value;
  }

  /** Stop every started part, last started first; each failure is logged and the rest still stop. */
  stop(): Promise<void> {
    return this.#stopping ??= (async () => {
      for (const { part, stop } of this.#started.toReversed()) {
        try {
          await stop();
        } catch (e) {
          this.#log.error(`could not stop ${part} cleanly`, {
            part,
            error: (e as Error).message,
            todo: "the other parts still stopped; if the next start fails on this part, fix what its error names",
          });
        }
      }
      this.#started.length = 0;
    })();
  }
}
