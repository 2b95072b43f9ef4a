/**
 * What a request sets off, followed across the peer: every API request gets
 * a correlation id (the client's `x-request-id` if it sent a well-formed
 * one), returned in `x-request-id`, in the request's log line (and its
 * error line) and in every log line written while a run it scheduled is
 * recorded. With an OTLP endpoint
 * configured (`[telemetry] otlp_endpoint` or WEFT_OTLP_ENDPOINT) the same
 * path is exported as OpenTelemetry traces over OTLP/HTTP: the request, the
 * space accepting its operation, and, for a job this peer runs, the
 * scheduler's run, the runner and the artifact store recording the
 * result, all in one trace. Without an endpoint no OpenTelemetry code is
 * loaded.
 *
 * A request's scope is kept by its Request object (a WeakMap), not in an
 * AsyncLocalStorage around the handler, so nothing a request starts (a
 * join's sync sessions, a connection) carries it after the request ends.
 * Only the recording of a finished run runs in a store.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Attributes, Context, Span, Tracer } from "@opentelemetry/api";

interface Scope {
  correlation: string;
  span?: Span;
}

const scopes = new AsyncLocalStorage<Scope>();

/** The correlation id of the run being recorded, if any. */
export function currentCorrelation(): string | undefined {
  return scopes.getStore()?.correlation;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** Requests whose runs may still start here: enough for any burst of submissions, bounded. */
const MAX_PENDING = 4096;

export interface RunTimes {
  startedAt: number;
  endedAt: number;
  status: string;
  runner: string;
}

/**
 * What stands for one request while it is served: any object that lives as
 * long as it (the API passes hono's per-request `c.req`, which is there
 * anyway; its `raw` Request is built only when something reads it).
 */
export type RequestKey = object;

export interface Observer {
  /** Serve one API request in its own scope; `handle` gets the correlation id and resolves with the status. */
  request(
    req: RequestKey,
    method: string,
    route: string,
    requestId: string | undefined,
    handle: (id: string) => Promise<number>,
  ): Promise<void>;
  /**
   * A step of the current request (the space accepting an operation) as a
   * child span. `key` names the task it creates, so the run of that task
   * joins this request's trace.
   */
  step<T>(req: RequestKey, name: string, attributes: Attributes, run: () => Promise<T>, key?: string): Promise<T>;
  /** Log fields naming the request (its correlation id), for lines written about it. */
  fields(req: RequestKey): Record<string, string>;
  /** A finished run of task `key`: the scheduler's and runner's spans, then `record` (the artifact store) live. */
  run<T>(key: string, times: RunTimes, attributes: Attributes, record: () => Promise<T>): Promise<T>;
  /** Send what is buffered and stop. */
  close(): Promise<void>;
}

interface Otel {
  tracer: Tracer;
  withSpan(span: Span | undefined): Context;
  fromParent(parent: Pending | undefined): Context;
  close(): Promise<void>;
}

interface Pending {
  correlation: string;
  span?: Span;
}

/** Loads the OpenTelemetry SDK and an OTLP/HTTP exporter to `endpoint` (the full traces URL). */
async function otel(endpoint: string, service: string, version: string): Promise<Otel> {
  const [api, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import("@opentelemetry/api"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
    ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service, "service.version": version }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }), { scheduledDelayMillis: 1000 })],
  });
  const withSpan = (span: Span | undefined) => span ? api.trace.setSpan(api.ROOT_CONTEXT, span) : api.ROOT_CONTEXT;
  return {
    tracer: provider.getTracer("weft-peer", version),
    withSpan,
    fromParent: (parent) => withSpan(parent?.span),
    close: () => provider.shutdown(),
  };
}

function failed(span: Span | undefined, e: unknown): void {
  span?.recordException(e as Error);
  span?.setStatus({ code: 2, message: (e as Error)?.message ?? String(e) });
}

/**
 * The peer's observer. `log` gets one debug line per request (method,
 * route, status, time), written in the request's scope so it carries its
 * correlation id like every other line.
 */
export async function createObserver(
  telemetry: { otlpEndpoint?: string },
  service: { name: string; version: string },
  log: (msg: string, fields: Record<string, unknown>) => void,
): Promise<Observer> {
  const o = telemetry.otlpEndpoint ? await otel(telemetry.otlpEndpoint, service.name, service.version) : undefined;
  const pending = new Map<string, Pending>();
  const requests = new WeakMap<RequestKey, Scope>();
  const remember = (key: string, p: Pending) => {
    pending.delete(key);
    pending.set(key, p);
    if (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value!);
  };
  return {
    async request(req, method, route, requestId, handle) {
      const started = performance.now();
      const span = o?.tracer.startSpan(`${method} ${route}`, {
        kind: 1, // server
        attributes: { "http.request.method": method, "http.route": route },
      });
      const correlation = requestId !== undefined && REQUEST_ID.test(requestId)
        ? requestId
        : span?.spanContext().traceId ?? crypto.randomUUID();
      span?.setAttribute("weft.correlation_id", correlation);
      requests.set(req, { correlation, span });
      try {
        const status = await handle(correlation);
        span?.setAttribute("http.response.status_code", status);
        if (status >= 500) span?.setStatus({ code: 2 });
        log("request", { method, route, status, ms: Math.round(performance.now() - started), correlation });
      } catch (e) {
        failed(span, e);
        throw e;
      } finally {
        span?.end();
      }
    },

    fields(req): Record<string, string> {
      const scope = requests.get(req);
      return scope ? { correlation: scope.correlation } : {};
    },

    async step(req, name, attributes, run, key) {
      const scope = requests.get(req);
      const span = o?.tracer.startSpan(name, { attributes }, o.withSpan(scope?.span));
      if (key && scope) remember(key, { correlation: scope.correlation, span });
      try {
        return await run();
      } catch (e) {
        failed(span, e);
        throw e;
      } finally {
        span?.end();
      }
    },

    async run(key, times, attributes, record) {
      const parent = pending.get(key);
      pending.delete(key);
      const correlation = parent?.correlation ?? crypto.randomUUID();
      const run = o?.tracer.startSpan("scheduler.run", {
        startTime: times.startedAt,
        attributes: { ...attributes, "weft.run.status": times.status, "weft.correlation_id": correlation },
      }, o.fromParent(parent));
      const runner = o?.tracer.startSpan(`runner.${times.runner}`, {
        startTime: times.startedAt,
        attributes: { "weft.runner": times.runner, "weft.run.status": times.status },
      }, o.withSpan(run));
      if (times.status !== "succeeded") runner?.setStatus({ code: 2, message: times.status });
      runner?.end(times.endedAt);
      const store = o?.tracer.startSpan("artifacts.record-run", { attributes }, o.withSpan(run));
      try {
        return await scopes.run({ correlation, span: store }, record);
      } catch (e) {
        failed(store, e);
        failed(run, e);
        throw e;
      } finally {
        store?.end();
        run?.end();
      }
    },

    async close() {
      await o?.close();
    },
  };
}
