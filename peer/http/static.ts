/**
 * Serving the dashboard's built files (pwa/dist) from the peer: only files
 * under the directory, with their content types, `index.html` for any path
 * without a file (the app routes client-side), and long caching for hashed
 * assets. Uses node:fs, which Node and Deno both provide.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

async function file(path: string): Promise<Uint8Array | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return new Uint8Array(await readFile(path));
  } catch {
    return undefined;
  }
}

/** Errors in the API's shape, so clients see one kind of error whatever path they hit. */
function errorResponse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

/** A handler for GET requests under `root`, or a short page saying how to build the dashboard. */
export function staticFiles(root: string): (pathname: string) => Promise<Response> {
  return async (pathname) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return errorResponse(400, "input/path", "the path has malformed percent-encoding");
    }
    const rel = normalize(decoded).replace(/^(\.\.(\/|\\|$))+/, "").replace(/^[/\\]+/, "");
    const target = join(root, rel);
    if (!(target + sep).startsWith(join(root) + sep) && target !== join(root)) {
      return errorResponse(404, "not-found", "no such file");
    }
    let body = rel ? await file(target) : undefined;
    let path = target;
    if (!body) {
      path = join(root, "index.html");
      body = await file(path);
    }
    if (!body) {
      return new Response(
        "<!doctype html><meta charset=utf-8><title>Weft</title><h1>Weft peer</h1>" +
          "<p>The dashboard is not built on this machine (<code>npm install</code> builds it unless scripts were skipped): run <code>npm run build:pwa</code>, then reload.</p>" +
          '<p>The API is at <a href="/openapi.json">/openapi.json</a>.</p>',
        { status: 200, headers: { "content-type": "text/html; charset=utf-8" } },
      );
    }
    const hashed = /\/assets\//.test(path);
    return new Response(body as BodyInit, {
      headers: {
        "content-type": TYPES[extname(path)] ?? "application/octet-stream",
        "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
      },
    });
  };
}
