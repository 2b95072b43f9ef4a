/**
 * A stock MCP client authorizing against `weft mcp --http` the way the MCP
 * spec has it, for the MCP suites: the SDK's client with an OAuth provider
 * discovers the metadata, registers and starts PKCE by itself; this file
 * plays the two parts outside the SDK — the browser (open the
 * authorization page, follow its redirect) and the person (read the code
 * on the page and run `weft mcp grant CODE`).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { CLI } from "./principal-files.ts";

const run = promisify(execFile);

/** A client's OAuth state, kept in memory as a desktop client keeps it on disk. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  /** Never listened on: the test reads the redirect's Location instead of receiving it. */
  readonly redirectUrl = "http://127.0.0.1:9/callback";
  readonly clientMetadata: OAuthClientMetadata;
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  authorizationUrl?: URL;
  constructor(name: string) {
    this.clientMetadata = {
      client_name: name,
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The person's answer: `weft mcp grant CODE` (or `--deny`) run with the peer's home. */
export async function answer(home: string, code: string, args: string[] = []) {
  const { stdout } = await run(process.execPath, [CLI, "mcp", "grant", code, ...args, "--json"], {
    env: { ...process.env, WEFT_HOME: home },
  });
  return JSON.parse(stdout);
}

/**
 * Drive the flow up to the page a person reads: the SDK client is refused,
 * finds the metadata, registers and sends the browser to /authorize.
 * Returns the code the page shows and where the page goes next.
 */
export async function startAuthorization(url: string, provider: MemoryOAuthProvider) {
  const client = new Client({ name: provider.clientMetadata.client_name!, version: "1" });
  await assert.rejects(
    client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })),
    UnauthorizedError,
  );
  assert.ok(provider.authorizationUrl, "the SDK sent the browser to the authorization endpoint");
  const page = await fetch(provider.authorizationUrl);
  assert.equal(page.status, 200, await page.clone().text());
  const html = await page.text();
  const code = /weft mcp grant ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(html)?.[1];
  const next = /content="2;url=([^"]+)"/.exec(html)?.[1];
  assert.ok(code && next, html);
  return { code, next: new URL(next, url) };
}

/** The browser following the page once the person answered: where the server redirects it. */
export async function follow(next: URL): Promise<URL> {
  const r = await fetch(next, { redirect: "manual" });
  assert.equal(r.status, 302, await r.text());
  return new URL(r.headers.get("location")!);
}

/** The whole flow, granted `commands` by the person; an SDK client connected with the token it got. */
export async function authorizedClient(
  url: string,
  home: string,
  commands: string[],
  name = "weft-test",
): Promise<{ client: Client; provider: MemoryOAuthProvider; granted: { did: string; delegations: string[] } }> {
  const provider = new MemoryOAuthProvider(name);
  const { code, next } = await startAuthorization(url, provider);
  const granted = await answer(home, code, commands.flatMap((c) => ["--command", c]));
  const back = await follow(next);
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await transport.finishAuth(back.searchParams.get("code")!);
  const client = new Client({ name, version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  return { client, provider, granted };
}
