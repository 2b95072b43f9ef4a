/**
 * `weft mcp --http`: the MCP streamable HTTP transport (spec revision
 * 2025-11-25) on loopback, on a port of its own. Its own process and port,
 * not the daemon's: it holds its clients' keys, which the daemon never sees,
 * and every call it makes reaches the daemon as a client's signed request
 * like any other client's.
 *
 * Who may call: a client holding an access token from this server's
 * authorization server (oauth/authorization-server.ts: the MCP spec's
 * OAuth 2.1 flow, where the authorization is a person's delegation to the
 * client's own DID), from a loopback Host and Origin (no DNS rebinding from
 * a web page). A session belongs to the client that opened it. Bodies are
 * read only after that, and only up to 1 MiB; sessions are capped, and
 * closed after 30 minutes unused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { ErrorCode } from "#protocol";
import { createMcpServer } from "./server.ts";
import { authorizationServer } from "./oauth/authorization-server.ts";

export const MCP_PATH = "/mcp";
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SESSIONS = 32;
/** A session unused this long is closed, so clients that vanish do not hold the slots. */
const IDLE_MS = 30 * 60 * 1000;

export interface McpHttpServer {
  url: string;
  /** How many sessions are open now. */
  sessions(): number;
  close(): Promise<void>;
}

function fail(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(
    JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: `${code}: ${message}` }, id: null }),
  );
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`a request body holds at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export async function serveMcpHttp(options: {
  home: string;
  /** Where registered clients, their keys and grants are kept (<home>/mcp-oauth). */
  dir: string;
  port?: number;
  idleMs?: number;
  peer?: { url?: string; node?: string };
}): Promise<McpHttpServer> {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; client: string }>();
  const lastUsed = new Map<string, number>();
  const idleMs = options.idleMs ?? IDLE_MS;
  const sweep = setInterval(() => {
    for (const [sid, at] of lastUsed) if (Date.now() - at > idleMs) void sessions.get(sid)?.transport.close();
  }, Math.min(idleMs, 60_000));
  sweep.unref();
  let port = 0;
  const loopback = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  let auth!: Awaited<ReturnType<typeof authorizationServer>>;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const hosts = loopback();
    const origin = req.headers.origin;
    if (!hosts.has(req.headers.host ?? "") || (origin !== undefined && !hosts.has(origin.replace(/^http:\/\//, "")))) {
      return fail(res, 403, "mcp/origin", "only loopback clients may use this server");
    }
    if (await auth.handle(req, res, url)) return;
    if (url.pathname !== MCP_PATH) return fail(res, 404, "not-found", `the MCP endpoint is ${MCP_PATH}`);
    const caller = await auth.principal(req.headers.authorization);
    if (!caller) {
      res.setHeader("www-authenticate", auth.challenge(req.headers.authorization ? "invalid_token" : undefined));
      return fail(
        res,
        401,
        "auth/missing",
        "authorize first (the MCP authorization flow; a person grants with weft mcp grant)",
      );
    }
    const id = req.headers["mcp-session-id"];
    let body: unknown;
    if (req.method === "POST") {
      try {
        if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
          throw new RangeError(`a request body holds at most ${MAX_BODY_BYTES} bytes`);
        }
        body = await readBody(req);
      } catch (e) {
        if (!(e instanceof RangeError)) return fail(res, 400, "input/invalid", (e as Error).message);
        // Answer at once, drop the rest unread (not kept), and close the connection after.
        res.setHeader("connection", "close");
        req.resume();
        return fail(res, 413, "input/too-large", e.message);
      }
    }
    const session = typeof id === "string" ? sessions.get(id) : undefined;
    // Another client's session is no session of this one's.
    let transport = session?.client === caller.client ? session.transport : undefined;
    if (transport) lastUsed.set(id as string, Date.now());
    if (!transport) {
      if (id !== undefined) return fail(res, 404, "not-found", "no such session; initialize again");
      if (req.method !== "POST" || !isInitializeRequest(body)) {
        return fail(res, 400, "input/invalid", "start a session with an initialize request");
      }
      if (sessions.size >= MAX_SESSIONS) {
        return fail(res, 503, "mcp/busy", `this server holds ${MAX_SESSIONS} sessions; close one first`);
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        // Tools answer once, with no progress in between: a JSON body is the whole answer, without an SSE stream.
        enableJsonResponse: true,
        onsessioninitialized: (sid) => {
          sessions.set(sid, { transport: created, client: caller.client });
          lastUsed.set(sid, Date.now());
        },
      });
      created.onclose = () => {
        if (created.sessionId) [sessions, lastUsed].forEach((m) => m.delete(created.sessionId!));
      };
      await createMcpServer(caller.principal).connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) fail(res, 500, "internal", (e as Error).message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${MCP_PATH}`;
  try {
    auth = await authorizationServer({ resource: new URL(url), ...options });
  } catch (e) {
    server.close();
    throw e;
  }
  return {
    url,
    sessions: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
      server.closeAllConnections();
      await auth.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
