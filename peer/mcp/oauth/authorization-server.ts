/**
 * MCP authorization (spec revision 2025-11-25) for `weft mcp --http`: the
 * server is both the protected resource and its authorization server
 * (OAuth 2.1). A stock MCP client finds everything itself: protected
 * resource metadata (RFC 9728), authorization server metadata (RFC 8414),
 * dynamic client registration (RFC 7591), the authorization code flow with
 * PKCE S256 only, resource indicators (RFC 8707) and the `iss` of the
 * response (RFC 9207).
 *
 * What Weft adds: a registered client gets a key of its own, its principal.
 * The authorization step is not a login but a person's grant: the page
 * shows a code, the person runs `weft mcp grant CODE`, and their
 * credentials delegate the asked commands to the client's DID in the space.
 * A token then only names the client; every MCP call is the client's own
 * signed request under that delegation, which the peer checks like any
 * other (revoking it in the space stops the client, whatever its token).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type OAuthClientInformationFull, OAuthClientMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { Commands } from "#protocol/ucan";
import { peerOf, type Principal, principalOf } from "../principal.ts";
import { parseChain } from "../principal.ts";
import { type ClientRecord, OAuthStore, type TokenRecord } from "./store.ts";
import { newCode, PENDING_MS, readAnswer, settle, writePending } from "./pending.ts";

/** The scopes a client may ask for, and the command each grants. */
export const SCOPES: Record<string, string> = {
  read: Commands.spaceRead,
  tasks: Commands.task,
  patches: Commands.patch,
};
const ACCESS_MS = 60 * 60 * 1000;
const REFRESH_MS = 30 * 24 * 60 * 60 * 1000;
const CODE_MS = 5 * 60 * 1000;
const MAX_FORM_BYTES = 64 * 1024;

interface Waiting {
  code: string;
  client: string;
  redirectUri: string;
  state?: string;
  challenge: string;
  expires: number;
}

export interface AuthorizationServer {
  /** Answer the request if it is for one of the authorization endpoints. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** The principal a bearer token acts as, with its client's id; undefined if the token is not good here. */
  principal(authorization: string | undefined): Promise<{ client: string; principal: Principal } | undefined>;
  /** The WWW-Authenticate header of a 401 from the resource. */
  challenge(error?: string): string;
  close(): Promise<void>;
}

const token = () => randomBytes(32).toString("base64url");
const sha256url = (s: string) => createHash("sha256").update(s).digest("base64url");
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const html = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers })
    .end(JSON.stringify(body));
}

/** An OAuth error answer (RFC 6749 §5.2). */
const oauthError = (res: ServerResponse, status: number, error: string, description: string) =>
  json(res, status, { error, error_description: description });

async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new RangeError(`a request body here holds at most ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function page(title: string, body: string, refresh?: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${html(title)}</title>${
    refresh ? `<meta http-equiv="refresh" content="2;url=${html(refresh)}">` : ""
  }</head><body><h1>${html(title)}</h1>${body}</body></html>`;
}

export async function authorizationServer(options: {
  /** The MCP endpoint: the resource tokens are for. */
  resource: URL;
  /** The state directory (<home>/mcp-oauth). */
  dir: string;
  home: string;
  peer?: { url?: string; node?: string };
}): Promise<AuthorizationServer> {
  const store = await OAuthStore.open(options.dir);
  const issuer = new URL("/", options.resource).href.replace(/\/$/, "");
  const prmPath = `/.well-known/oauth-protected-resource${options.resource.pathname}`;
  const resource = options.resource.href;
  const waiting = new Map<string, Waiting>();
  const principals = new Map<string, { at: number; principal: Principal }>();

  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    scopes_supported: Object.keys(SCOPES),
    authorization_response_iss_parameter_supported: true,
  };
  const protectedResource = {
    resource,
    authorization_servers: [issuer],
    scopes_supported: Object.keys(SCOPES),
    bearer_methods_supported: ["header"],
    resource_name: "Weft space (MCP)",
  };

  function redirect(res: ServerResponse, to: string, params: Record<string, string | undefined>): void {
    const url = new URL(to);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    url.searchParams.set("iss", issuer);
    res.writeHead(302, { location: url.href, "cache-control": "no-store" }).end();
  }

  async function register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readForm(req));
    } catch (e) {
      return oauthError(res, 400, "invalid_client_metadata", (e as Error).message);
    }
    const parsed = OAuthClientMetadataSchema.safeParse(body);
    if (!parsed.success) return oauthError(res, 400, "invalid_client_metadata", parsed.error.message);
    const m = parsed.data;
    if (m.redirect_uris.length === 0 || m.redirect_uris.length > 8) {
      return oauthError(res, 400, "invalid_redirect_uri", "give between 1 and 8 redirect_uris");
    }
    for (const uri of m.redirect_uris) {
      const u = new URL(uri);
      const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
      if (u.protocol === "http:" && !loopback) {
        return oauthError(res, 400, "invalid_redirect_uri", `${uri}: http redirects must go to loopback`);
      }
    }
    const info: OAuthClientInformationFull = {
      ...m,
      client_name: (m.client_name ?? "MCP client").slice(0, 80),
      // A public client (native apps hold no secret): PKCE proves the code's redeemer.
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      client_id: randomUUID(),
      client_id_issued_at: Math.floor(Date.now() / 1000),
    };
    const record = await store.register(info);
    json(res, 201, record.info);
  }

  async function authorize(res: ServerResponse, q: URLSearchParams): Promise<void> {
    const client = store.client(q.get("client_id") ?? "");
    if (!client) return oauthError(res, 400, "invalid_client", "unknown client_id: register first");
    const redirectUri = q.get("redirect_uri") ?? client.info.redirect_uris[0];
    // Never redirect an unchecked URI: errors before this point are answered here.
    if (!client.info.redirect_uris.includes(redirectUri)) {
      return oauthError(res, 400, "invalid_request", "redirect_uri is not one the client registered");
    }
    const state = q.get("state") ?? undefined;
    const fail = (error: string, description: string) =>
      redirect(res, redirectUri, { error, error_description: description, state });
    if (q.get("response_type") !== "code") return fail("unsupported_response_type", "only response_type=code");
    const challenge = q.get("code_challenge") ?? "";
    if (q.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return fail("invalid_request", "PKCE is required: code_challenge_method=S256 and its code_challenge");
    }
    const asked = q.get("resource");
    if (asked !== null && asked !== resource) return fail("invalid_target", `this server's resource is ${resource}`);
    const scopes = (q.get("scope") ?? Object.keys(SCOPES).join(" ")).split(" ").filter(Boolean);
    const unknown = scopes.find((s) => !Object.hasOwn(SCOPES, s));
    if (unknown) return fail("invalid_scope", `scopes here: ${Object.keys(SCOPES).join(", ")}`);
    // Authorizations nobody came back for are forgotten here (their files go with the next writePending).
    for (const [id, w] of waiting) if (w.expires <= Date.now()) waiting.delete(id);
    const code = newCode();
    const expires = Date.now() + PENDING_MS;
    try {
      await writePending(options.dir, {
        code,
        client: client.info.client_id,
        clientName: client.info.client_name!,
        did: client.did,
        redirectUri,
        commands: scopes.map((s) => SCOPES[s]),
        expires,
      });
    } catch (e) {
      return fail("temporarily_unavailable", (e as Error).message);
    }
    const request = token();
    waiting.set(request, { code, client: client.info.client_id, redirectUri, state, challenge, expires });
    waitPage(res, request, code, client);
  }

  function waitPage(res: ServerResponse, request: string, code: string, client: ClientRecord): void {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(page(
      `Grant ${client.info.client_name} access to your space`,
      `<p><b>${html(client.info.client_name!)}</b> asks to act in your Weft space as its own principal ` +
        `<code>${html(client.did)}</code>.</p><p>To grant it, run on this machine:</p>` +
        `<pre>weft mcp grant ${code}</pre><p>(or <code>weft mcp grant ${code} --deny</code>). ` +
        `This page moves on by itself once you have answered.</p>`,
      `/authorize/wait?request=${request}`,
    ));
  }

  async function wait(res: ServerResponse, request: string): Promise<void> {
    const w = waiting.get(request);
    if (!w) return oauthError(res, 400, "invalid_request", "no such authorization waits here; start again");
    const client = store.client(w.client)!;
    const done = (params: Record<string, string | undefined>) => {
      waiting.delete(request);
      return settle(options.dir, w.code).then(() => redirect(res, w.redirectUri, { ...params, state: w.state }));
    };
    if (w.expires <= Date.now()) return await done({ error: "access_denied", error_description: "nobody answered" });
    const answer = await readAnswer(options.dir, w.code);
    if (!answer) return waitPage(res, request, w.code, client);
    if ("denied" in answer) return await done({ error: "access_denied", error_description: answer.denied });
    const grant = { ...answer.granted, at: Date.now() };
    try {
      // What the person delegated must reach this client's key, in one space, before any code is issued for it.
      await principalFor(client, grant);
    } catch (e) {
      return await done({ error: "server_error", error_description: (e as Error).message });
    }
    await store.setGrant(w.client, grant);
    const code = token();
    await store.issue({
      [code]: {
        kind: "code",
        client: w.client,
        expires: Date.now() + CODE_MS,
        resource,
        challenge: w.challenge,
        redirectUri: w.redirectUri,
      },
    });
    await done({ code });
  }

  async function issueTokens(res: ServerResponse, client: string, used: string): Promise<void> {
    const access = token();
    const refresh = token();
    const base = { client, resource };
    await store.issue({
      [access]: { kind: "access", ...base, expires: Date.now() + ACCESS_MS },
      [refresh]: { kind: "refresh", ...base, expires: Date.now() + REFRESH_MS },
    }, [used]);
    const commands = store.client(client)?.grant?.commands ?? [];
    json(res, 200, {
      access_token: access,
      token_type: "Bearer",
      expires_in: ACCESS_MS / 1000,
      refresh_token: refresh,
      scope: Object.keys(SCOPES).filter((s) => commands.includes(SCOPES[s])).join(" "),
    });
  }

  async function tokenEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let form: URLSearchParams;
    try {
      form = new URLSearchParams(await readForm(req));
    } catch (e) {
      return oauthError(res, 400, "invalid_request", (e as Error).message);
    }
    const clientId = form.get("client_id") ?? "";
    if (!store.client(clientId)) return oauthError(res, 401, "invalid_client", "unknown client_id");
    const asked = form.get("resource");
    if (asked !== null && asked !== resource) {
      return oauthError(res, 400, "invalid_target", `this server's resource is ${resource}`);
    }
    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") {
      const value = form.get("code") ?? "";
      const code = store.token(value);
      if (!code || code.kind !== "code" || code.client !== clientId) {
        return oauthError(res, 400, "invalid_grant", "the code is unknown, used, expired or another client's");
      }
      if (form.get("redirect_uri") !== null && form.get("redirect_uri") !== code.redirectUri) {
        return oauthError(res, 400, "invalid_grant", "redirect_uri differs from the authorization request's");
      }
      const verifier = form.get("code_verifier") ?? "";
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !same(sha256url(verifier), code.challenge!)) {
        return oauthError(res, 400, "invalid_grant", "code_verifier does not match the code_challenge");
      }
      return await issueTokens(res, clientId, value);
    }
    if (grantType === "refresh_token") {
      const value = form.get("refresh_token") ?? "";
      const refresh = store.token(value);
      if (!refresh || refresh.kind !== "refresh" || refresh.client !== clientId) {
        return oauthError(res, 400, "invalid_grant", "the refresh token is unknown, used, expired or another client's");
      }
      return await issueTokens(res, clientId, value);
    }
    return oauthError(res, 400, "unsupported_grant_type", "authorization_code or refresh_token");
  }

  async function principalFor(client: ClientRecord, grant: NonNullable<ClientRecord["grant"]>): Promise<Principal> {
    const kept = principals.get(client.info.client_id);
    if (kept && kept.at === grant.at) return kept.principal;
    const signer = await store.signer(client.info.client_id);
    if (!signer) throw new Error(`the key of client ${client.info.client_id} is missing`);
    const chains = await Promise.all(grant.containers.map((c, i) => parseChain(c, `grant ${i + 1}`)));
    const principal = principalOf(signer, chains, await peerOf(options.home, options.peer ?? {}));
    if (principal.space !== grant.space) {
      throw new Error(`the grant delegates in ${principal.space}, not ${grant.space}`);
    }
    principals.set(client.info.client_id, { at: grant.at, principal });
    return principal;
  }

  return {
    async handle(req, res, url) {
      const route = `${req.method} ${url.pathname}`;
      if (route === `GET ${prmPath}` || route === "GET /.well-known/oauth-protected-resource") {
        json(res, 200, protectedResource);
      } else if (route === "GET /.well-known/oauth-authorization-server") json(res, 200, metadata);
      else if (route === "POST /register") await register(req, res);
      else if (route === "GET /authorize") await authorize(res, url.searchParams);
      else if (route === "GET /authorize/wait") await wait(res, url.searchParams.get("request") ?? "");
      else if (route === "POST /token") await tokenEndpoint(req, res);
      else return false;
      return true;
    },
    async principal(authorization) {
      const m = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(authorization ?? "");
      const t: TokenRecord | undefined = m ? store.token(m[1]) : undefined;
      if (!t || t.kind !== "access" || t.resource !== resource) return undefined;
      const client = store.client(t.client);
      if (!client?.grant) return undefined;
      return { client: t.client, principal: await principalFor(client, client.grant) };
    },
    close: () => store.close(),
    challenge(error) {
      return `Bearer ${error ? `error="${error}", ` : ""}resource_metadata="${issuer}${prmPath}", scope="${
        Object.keys(SCOPES).join(" ")
      }"`;
    },
  };
}
