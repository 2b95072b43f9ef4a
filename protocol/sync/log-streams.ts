/**
 * A run's log over a sync session, from the node running it: `logs` asks
 * for a run's log (and, with `follow`, each new line until it ends), or,
 * without a space and task, stops a stream; `log` carries a line, or the
 * end of the stream and why. Served only for a space the remote proved,
 * and a few streams at a time.
 *
 *   {type: "logs", request: n, space?, task?, follow?}
 *   {type: "log", request: n, line?, end?}      end: "" when the run ended, else why
 */
import { bool, check, InvalidInput, num, object, oneOf, optional, required, str } from "../schema/input-checks.ts";
import { didKey, type FrameHandler, type FrameSpec, requestId, SyncProtocolError } from "./frame-checks.ts";
import type { SessionContext } from "./session-context.ts";

/** Log streams served at once per session. */
const MAX_STREAMS = 8;

const logLine = object({
  stream: required(oneOf("stdout", "stderr", "system")),
  at: required(num(-Number.MAX_VALUE, Number.MAX_VALUE)),
  text: required(str(0, 64 * 1024)),
});
const logsShape = object({
  type: required(oneOf("logs")),
  request: required(requestId),
  space: optional(didKey),
  task: optional(str(1, 64)),
  follow: optional(bool),
});
/** A request names both a space and a task, or neither (a stop). */
const logsFrame = check((v, field) => {
  const frame = logsShape(v, field);
  if ((frame.space === undefined) !== (frame.task === undefined)) {
    throw new InvalidInput(field, "must name both a space and a task, or neither");
  }
  return frame;
}, logsShape.json);
const logFrame = object({
  type: required(oneOf("log")),
  request: required(requestId),
  line: optional(logLine),
  end: optional(str(0, 1024)),
});

export type WireLogLine = ReturnType<typeof logLine>;
export type LogsFrame = ReturnType<typeof logsFrame>;
export type LogFrame = ReturnType<typeof logFrame>;
export type LogStreamFrame = LogsFrame | LogFrame;

export const logStreamFrames = {
  logs: { check: logsFrame, stage: "ready" } as FrameSpec<LogsFrame>,
  log: { check: logFrame, stage: "ready" } as FrameSpec<LogFrame>,
};

export class LogStreams {
  readonly #ctx: SessionContext;
  /** Streams we serve, by the remote's request id. */
  readonly #serving = new Map<number, AbortController>();
  /** Streams we follow, by our request id. */
  readonly #following = new Map<number, (frame: LogFrame) => void>();
  #nextRequest = 0;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  readonly handlers: { logs: FrameHandler<LogsFrame>; log: FrameHandler<LogFrame> } = {
    logs: (frame) => this.#onLogs(frame),
    log: (frame) => this.#following.get(frame.request)?.(frame),
  };

  /**
   * A run's log on the remote (the node running it): every line so far and,
   * with `follow`, each new one until the run ends, the link goes, or
   * `signal` aborts. Throws if the remote has no such run or refuses.
   */
  async *follow(space: string, task: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<WireLogLine> {
    if (this.#ctx.closed() || !this.#ctx.session.ready) throw new SyncProtocolError("the link to that node is down");
    const request = this.#nextRequest++;
    const queue: LogFrame[] = [];
    let wake: (() => void) | undefined;
    const push = (f: LogFrame) => {
      queue.push(f);
      wake?.();
    };
    this.#following.set(request, push);
    const onAbort = () => push({ type: "log", request, end: "" });
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#ctx.send({ type: "logs", request, space, task, ...(follow ? { follow: true } : {}) });
    let ended = false;
    try {
      while (true) {
        while (queue.length > 0) {
          const f = queue.shift() as LogFrame;
          if (f.line) yield f.line;
          if (f.end !== undefined) {
            ended = true;
            if (f.end !== "") throw new SyncProtocolError(f.end);
            return;
          }
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.#following.delete(request);
      signal?.removeEventListener("abort", onAbort);
      if (!ended || signal?.aborted) this.#ctx.send({ type: "logs", request });
    }
  }

  /** The link is gone: stop what we serve, and end what we follow. */
  close(): void {
    for (const stream of this.#serving.values()) stream.abort();
    for (const [request, follow] of this.#following) {
      follow({ type: "log", request, end: "the link to that node closed" });
    }
  }

  /** Stream a run's log to the remote, if it may see the space and the run is here. */
  #onLogs(frame: LogsFrame): void {
    const { request, space, task } = frame;
    if (space === undefined || task === undefined) {
      this.#serving.get(request)?.abort();
      return;
    }
    const end = (why: string) => this.#ctx.send({ type: "log", request, end: why });
    if (!this.#ctx.session.spaces.has(space)) return end(`not a member of ${space}`);
    if (this.#serving.has(request) || this.#serving.size >= MAX_STREAMS) return end("too many log streams");
    const controller = new AbortController();
    const lines = this.#ctx.options.logs?.(space, task, frame.follow === true, controller.signal);
    if (!lines) return end(`no run of ${task} here`);
    this.#serving.set(request, controller);
    void (async () => {
      try {
        for await (const l of lines) {
          this.#ctx.send({ type: "log", request, line: { stream: l.stream, at: l.at, text: l.text } });
        }
        end("");
      } catch (e) {
        end((e as Error).message);
      } finally {
        this.#serving.delete(request);
      }
    })();
  }
}
