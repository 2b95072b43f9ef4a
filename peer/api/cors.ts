/**
 * Cross-origin access to the API, for a dashboard served by one peer that
 * reads from another member's peer (a repository's pack, when the peer that
 * served the page lacks it). Safe because of what authorizes a call here: a
 * bearer that is a signed invocation addressed to this node, made for that
 * one request by a member's key, never a cookie or anything else a browser
 * attaches by itself. So only routes that take such a bearer answer other
 * origins, with `*` and never `Allow-Credentials`; the open routes (the
 * node's identity, pairing, health, the dashboard) answer only their own
 * origin, so a web page cannot read a local peer's DID to tell its users
 * apart. A preflight is answered only for a method the path serves, and
 * allows only the two request headers the API reads.
 */
import type { MiddlewareHandler } from "hono";
import { matchRoute } from "./routes.ts";
import type { RouteDef } from "./route-table/def.ts";

/** The request headers a cross-origin caller may send: the bearer and a JSON body's type. */
const ALLOWED_HEADERS = "authorization, content-type";
/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE = "600";

const METHODS: RouteDef["method"][] = ["GET", "POST", "PATCH", "DELETE"];
const takesBearer = (r: RouteDef) => r.auth.kind !== "none" && !r.websocket;

/** The methods `path` serves to a bearer, for a preflight's answer. */
function bearerMethods(path: string): string[] {
  return METHODS.filter((m) => {
    const match = matchRoute(m, path);
    return match !== undefined && takesBearer(match.route);
  });
}

export function cors(): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (!origin) return await next();
    const asked = c.req.header("access-control-request-method");
    if (c.req.method === "OPTIONS" && asked) {
      const methods = bearerMethods(c.req.path);
      if (!methods.includes(asked)) return await next(); // answered without CORS headers: the browser refuses
      return c.body(null, 204, {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": methods.join(", "),
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE,
      });
    }
    await next();
    const match = matchRoute(c.req.method, c.req.path);
    if (!match || !takesBearer(match.route)) return;
    try {
      c.res.headers.set("access-control-allow-origin", "*");
    } catch {
      // an immutable response (a proxied stream): the browser will refuse to read it, which is safe
    }
  };
}
