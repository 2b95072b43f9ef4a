/**
 * Serving one API route: query parameters and body checked by the route's
 * schema, credentials checked before any body byte is read (and the body
 * read as it streams, refused past its limit), the space's heads on the
 * answer, and operation routes handed to the space as the signed operation
 * itself.
 */
import type { Context } from "hono";
import type { Space } from "#protocol/space";
import { concatBytes, fromUtf8 } from "#protocol";
import { InvalidInput } from "#protocol/schema";
import type { Delegation } from "#protocol/ucan";
import type { Hlc, Task } from "#protocol/tasks";
import { podOf } from "#protocol/scheduler";
import type { ApiAuthority } from "./auth.ts";
import type { ApiContext } from "./app.ts";
import { HttpError } from "./errors.ts";
import { HEADS_AT_HEADER, HEADS_HEADER, type RouteDef } from "./routes.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export type Handler = (
  c: Context,
  x: {
    params: Record<string, string>;
    body: unknown;
    query: Record<string, string>;
    space?: Space;
    /** For query routes: the caller's proof chain, root first (what it holds). */
    chain?: readonly Delegation[];
    /** For query routes: who signed the request (the invocation's issuer). */
    caller?: string;
    /** For operation routes: the signed operation, checked against its route. */
    op?: Awaited<ReturnType<ApiAuthority["op"]>>;
    /** The body's bytes as sent, for a route that checks a signature over them (POST /v1/sessions). */
    raw?: Uint8Array;
  },
) => Promise<Response> | Response;

export type OpRoute = RouteDef & { auth: { kind: "op" } };

/**
 * The request's body, read as it streams and refused with 413 as soon as it
 * passes MAX_BODY_BYTES: a body is never held beyond the limit, whatever
 * its content-length says (or whether it says anything).
 */
async function readBody(c: Context): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, "input/too-large", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  // Without either header a request has no body (RFC 9112, 6.3): nothing to read, and no Request to build for it.
  if (!mayHaveBody(c)) return new Uint8Array();
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    reader.releaseLock(); // not cancel: that would tear down the connection before the 413 is sent
  }
  return concatBytes(...chunks);
}

/** A request that may still have body bytes on the wire. */
export function mayHaveBody(c: Context): boolean {
  return c.req.header("transfer-encoding") !== undefined || Number(c.req.header("content-length") ?? 0) > 0;
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    throw new InvalidInput("body", "must be JSON");
  }
}

export async function dispatch(ctx: ApiContext, route: RouteDef, handler: Handler, c: Context): Promise<Response> {
  const url = new URL(c.req.url);
  const params = c.req.param() as Record<string, string>;
  const query = Object.fromEntries(url.searchParams);
  if (route.query) route.query(query, "query");
  else if (url.search && route.auth.kind !== "op") {
    // No query parameters are defined here: refuse rather than silently ignore them.
    throw new InvalidInput("query", "this route takes no query parameters");
  }
  const withHeads = (res: Response) => {
    const known = params.space === undefined ? undefined : ctx.node.space(params.space);
    if (known) headsHeaders(res, known);
    return res;
  };
  // Credentials are checked before any body is read: a stranger's upload costs nothing.
  if (route.auth.kind === "op" || route.auth.kind === "signed") {
    const header = c.req.header("authorization");
    const op = route.auth.kind === "op"
      ? await ctx.auth.op(header, route as OpRoute, params)
      : await ctx.auth.signed(header, route.auth.command, params);
    return withHeads(await handler(c, { params, body: parseJson(await readBody(c)), query, op }));
  }
  let raw: Uint8Array | undefined;
  const body = async () => (raw ??= await readBody(c));
  let space: Space | undefined;
  let chain: readonly Delegation[] | undefined;
  let caller: string | undefined;
  // A GET's answer is computed while its bearer's use is made durable, and sent only after.
  let durable: Promise<void> | undefined;
  if (route.auth.kind === "query") {
    const args = [
      c.req.header("authorization"),
      route as RouteDef & { auth: { kind: "query" } },
      params,
      { method: route.method, path: url.pathname + url.search, body },
    ] as const;
    ({ space, chain, durable, caller } = route.method === "GET"
      ? await ctx.auth.read(...args)
      : { ...await ctx.auth.query(...args), durable: undefined });
  }
  const json = parseJson(await body());
  let checked: unknown;
  if (route.body) checked = route.body(json ?? {}, "body");
  else if (json !== undefined) throw new InvalidInput("body", "this route takes no body");
  let res: Response;
  try {
    res = await handler(c, {
      params,
      body: checked,
      query,
      space,
      chain,
      ...(caller ? { caller } : {}),
      ...(raw ? { raw } : {}),
    });
  } finally {
    await durable; // nothing, not even an error, is answered before the use is durable
  }
  return withHeads(res);
}

/**
 * What the space's log holds now, for clients that sign operations: they
 * name these heads as what their next operation follows (see
 * protocol/README.md, "Time").
 */
function headsHeaders(res: Response, space: Space): void {
  const heads = space.log.heads(); // newest first
  const at: Hlc = (heads.length > 0 && space.log.timeOf(heads[0])) || [0, 0];
  try {
    res.headers.set(HEADS_HEADER, heads.join(","));
    res.headers.set(HEADS_AT_HEADER, `${at[0]}.${at[1]}`);
  } catch {
    // an immutable response (e.g. a proxied stream): heads are only a hint
  }
}

export function opHandler(ctx: ApiContext, route: OpRoute): Handler {
  return async (c, { body, op }) => {
    const { space, bytes, invocation, proofs } = op!;
    if (body !== undefined) {
      // A body, if sent, must say the same as the signed operation.
      const args = invocation.args as Record<string, unknown>;
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (JSON.stringify(args[k]) !== JSON.stringify(v)) {
          throw new InvalidInput(`body.${k}`, "differs from the signed operation");
        }
      }
    }
    const args = invocation.args as Record<string, unknown>;
    const runRoute = route.path.endsWith("/schedule") || route.path.endsWith("/evict");
    if (route.path.endsWith("/schedule") && args.run === undefined) {
      throw new InvalidInput("args.run", "is required: a run is a task with a run spec");
    }
    if (route.path.endsWith("/evict") && !space.log.reducer.tasks.get(String(args.task))?.run) {
      throw new HttpError(404, "not-found", `${args.task} is not a run; cancel a task with its cancel route`);
    }
    const key = args.idempotencyKey;
    const first = route.auth.op === "create" && typeof key === "string"
      ? space.log.reducer.byIdempotencyKey(invocation.iss, key)
      : undefined;
    const submit = () => space.submit(bytes, proofs);
    const task = ctx.observer
      ? await ctx.observer.step(
        c.req,
        "space.submit",
        { "weft.space": space.id, "weft.task": String(args.task), "weft.op": route.auth.op },
        submit,
        route.path.endsWith("/schedule") ? `${space.id} ${String(args.task)}` : undefined,
      )
      : await submit();
    const status = route.auth.op === "create" && !first ? 201 : 200;
    if (!runRoute) return c.json(task, status);
    return c.json(podOf(space.id, task as Task & { run: NonNullable<Task["run"]> }, Date.now()), status);
  };
}
