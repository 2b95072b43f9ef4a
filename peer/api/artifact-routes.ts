/**
 * The handlers of the HTTP API's artifact routes (ARTIFACT_ROUTES in
 * routes.ts). Every route is a space query: the bearer invokes
 * /weft/artifact/get (list, download, read a manifest, verify) or
 * /weft/artifact/put (upload) on the space, naming the request. Uploads and
 * downloads stream — bodies are not read whole as other routes do — so an
 * upload's invocation names its sha-256 and size in the query instead of a
 * body digest, and the bytes must match them or nothing is stored.
 * Downloads honour `Range: bytes=N-`, which is how `weft artifact get` resumes.
 */
import type { Context, Hono } from "hono";
import { toBase64 } from "#protocol";
import { RAW } from "#protocol/codec";
import { InvalidInput } from "#protocol/schema";
import { sha256OfCid, type VerifiedManifest } from "#protocol/artifacts";
import { CID } from "multiformats/cid";
import type { ArtifactService } from "../artifacts/service.ts";
import type { ApiAuthority } from "./auth.ts";
import { ARTIFACT_ROUTES, type RouteDef } from "./routes.ts";

export interface ArtifactRouteDeps {
  auth: ApiAuthority;
  artifacts: ArtifactService;
}

type Handler = (
  c: Context,
  x: { space: string; params: Record<string, string>; query: Record<string, string> },
) => Promise<Response>;

/** Register the artifact routes on the API's hono app. */
export function mountArtifactRoutes(app: Hono, deps: ArtifactRouteDeps): void {
  const handlers = artifactHandlers(deps.artifacts);
  for (const route of ARTIFACT_ROUTES) {
    const handler = handlers[`${route.method} ${route.path}`];
    app.on(route.method, route.path, async (c) => {
      const url = new URL(c.req.url);
      const params = c.req.param() as Record<string, string>;
      const query = Object.fromEntries(url.searchParams);
      if (route.query) route.query(query, "query");
      else if (url.search) throw new InvalidInput("query", "this route takes no query parameters");
      const queryRoute = route as RouteDef & { auth: { kind: "query" } }; // every artifact route is a space query
      const { space } = await deps.auth.query(c.req.header("authorization"), queryRoute, params, {
        method: route.method,
        path: url.pathname + url.search,
      });
      // Artifact failures get their statuses (400, 422, 502) from their kinds: peer/api/errors.ts.
      return await handler(c, { space: space!.id, params, query });
    });
  }
}

/** A manifest as JSON: tokens as base64, plus what verification established. */
export function manifestView(v: VerifiedManifest) {
  const m = v.manifest;
  return {
    cid: v.cid,
    manifest: {
      ...m,
      capability: { invocation: toBase64(m.capability.invocation), proofs: m.capability.proofs.map(toBase64) },
    },
    statement: v.statement,
    invocation: v.invocation.cid.toString(),
    chain: v.chain.map((d) => d.cid.toString()),
  };
}

function isRawCid(text: string): boolean {
  try {
    return CID.parse(text).code === RAW;
  } catch {
    return false;
  }
}

/** `bytes=N-` → N; other forms are not served partially (the whole artifact is sent). */
function rangeStart(header: string | undefined): number | undefined {
  const m = header === undefined ? null : /^bytes=(\d{1,16})-$/.exec(header.trim());
  return m ? Number(m[1]) : undefined;
}

/** A web stream that pulls from an async iterable (and stops it when the client goes away). */
function streamOf(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const { done, value } = await it.next();
      if (done) ctl.close();
      else ctl.enqueue(value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

function artifactHandlers(artifacts: ArtifactService): Record<string, Handler> {
  return {
    "GET /v1/spaces/:space/artifacts": async (c, { space }) => c.json(await artifacts.list(space)),

    "POST /v1/spaces/:space/artifacts": async (c, { space, query }) => {
      const size = Number(query.size);
      const declared = c.req.header("content-length");
      if (declared !== undefined && Number(declared) !== size) {
        throw new InvalidInput("body", `has ${declared} bytes but ?size= says ${size}`);
      }
      const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
      const stored = await artifacts.put(space, body as unknown as AsyncIterable<Uint8Array>, {
        sha256: query.sha256,
        size,
        signal: c.req.raw.signal,
      });
      return c.json(stored, 201);
    },

    "GET /v1/spaces/:space/artifacts/:cid": async (c, { space, params }) => {
      if (!isRawCid(params.cid)) return c.json(manifestView(await artifacts.manifest(space, params.cid)));
      const sha256 = sha256OfCid(params.cid);
      const { store, size } = await artifacts.locate(space, sha256, c.req.raw.signal);
      const start = rangeStart(c.req.header("range"));
      const headers: Record<string, string> = {
        "content-type": "application/octet-stream",
        "accept-ranges": "bytes",
        etag: `"${sha256}"`,
      };
      if (start !== undefined && start >= size && size > 0) {
        return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${size}` } });
      }
      const offset = start ?? 0;
      const body = await store.read(sha256, { offset, signal: c.req.raw.signal });
      headers["content-length"] = String(size - offset);
      if (start !== undefined) headers["content-range"] = `bytes ${offset}-${size - 1}/${size}`;
      return new Response(streamOf(body), { status: start !== undefined ? 206 : 200, headers });
    },

    "GET /v1/spaces/:space/artifacts/:cid/verify": async (c, { space, params }) =>
      c.json(await artifacts.verify(space, params.cid, c.req.raw.signal)),
  };
}
