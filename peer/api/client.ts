/**
 * An HTTP API client that authorizes each call the way the server checks
 * it: a fresh invocation naming the request for queries, a signed task
 * operation for task changes. Used by the `weft` CLI and the tests.
 */
import type { Signer } from "#protocol/identity";
import { type ErrorCode, errorCodeOf, utf8, WeftError } from "#protocol";
import { type Delegation, encodeContainer, invoke, type Ipld } from "#protocol/ucan";
import { CID } from "multiformats/cid";
import { type Hlc, HybridClock, isHlc, type OpArgs, type OpKind, OPS } from "#protocol/tasks";
import { requestArgs } from "./request.ts";
import { type Exchange, exchange } from "./http-exchange.ts";
import { approvalOpPath, HEADS_AT_HEADER, HEADS_HEADER, matchRoute, patchOpPath } from "./routes.ts";
import { PATCH_OPS, type PatchOpArgs, type PatchOpKind } from "#protocol/patch";
import { APPROVAL_OPS, type ApprovalOpArgs, type ApprovalOpKind } from "#protocol/approvals";
import type { Credentials } from "./credentials.ts";

export class ApiError extends WeftError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string) {
    super("ApiError", code, message);
    this.status = status;
  }
}

export class DaemonUnreachable extends WeftError {
  constructor(url: string, cause: unknown) {
    super("DaemonUnreachable", "cli/unreachable", `no Weft peer answers at ${url}; start one with \`weft up\``, {
      cause,
    });
  }
}

/** A space as GET /v1/spaces lists it (the fields this client reads). */
export interface SpaceListing {
  id: string;
  name: string;
  chain: string[];
  standing?: { state: string; by?: string; at?: number };
}

/** Why the node can no longer act in a space it still holds (it was revoked, or its delegation lapsed). */
function notMemberAnyMore(space: string, st: NonNullable<SpaceListing["standing"]>): string {
  const when = st.at !== undefined ? ` at ${new Date(st.at).toISOString()}` : "";
  const what = st.state === "revoked"
    ? `this node was removed from space ${space} by ${st.by}${when}`
    : `this node's delegation in space ${space} ${st.state}${when}`;
  return `${what}, so it can no longer act in it; \`weft space list\` shows its standing, and a member can invite it again`;
}

export class ApiClient {
  readonly url: string;
  readonly #c: Credentials;
  readonly #hlc = new HybridClock();
  /** The heads each space's log had when this client last heard from the peer. */
  readonly #heads = new Map<string, string[]>();
  readonly #headsAt = new Map<string, Hlc>();
  /** The node's chain (CIDs) in each space, learned from GET /v1/spaces. */
  readonly #chains = new Map<string, string[]>();

  /**
   * `chains` preloads the node's chain (CIDs, root first) per space, for a
   * client whose credentials cannot read the node's space list.
   */
  constructor(credentials: Credentials, url = credentials.url, chains: Record<string, string[]> = {}) {
    this.#c = credentials;
    this.url = url.replace(/\/$/, "");
    for (const [space, chain] of Object.entries(chains)) this.#chains.set(space, chain);
  }

  get signer(): Signer {
    return this.#c.signer;
  }

  /**
   * The node's spaces (GET /v1/spaces). Each one's chain is remembered, so
   * a request in a space listed here signs without asking for the list again;
   * a space the node can no longer act in is not, so #chainFor says why.
   */
  async spaces(): Promise<SpaceListing[]> {
    const { spaces } = await this.get<{ spaces: SpaceListing[] }>("/v1/spaces");
    for (const s of spaces) {
      if (s.chain.length > 0 || !s.standing || s.standing.state === "member") this.#chains.set(s.id, s.chain);
    }
    return spaces;
  }

  async #chainFor(space: string): Promise<string[]> {
    let chain = this.#chains.get(space);
    if (!chain) {
      const spaces = await this.spaces();
      const listed = spaces.find((s) => s.id === space);
      if (!listed) throw new ApiError(404, "not-found", `the peer is not in a space ${space}`);
      if (listed.chain.length === 0 && listed.standing && listed.standing.state !== "member") {
        throw new ApiError(403, "cap/revoked", notMemberAnyMore(space, listed.standing));
      }
      chain = listed.chain;
    }
    return chain;
  }

  /** A bearer for one request to a query route. */
  async bearer(method: string, pathWithQuery: string, body?: Uint8Array): Promise<string> {
    const match = matchRoute(method, pathWithQuery.split("?")[0]);
    if (!match || match.route.auth.kind !== "query") {
      throw new WeftError("NoRoute", "cli/no-route", `no query route ${method} ${pathWithQuery}`);
    }
    const { route, params } = match;
    const auth = route.auth as { kind: "query"; scope: "node" | "space"; command: string };
    const space = auth.scope === "space" ? params.space : undefined;
    const proofs: Array<Delegation | CID> = space
      ? [...(await this.#chainFor(space)).map((c) => CID.parse(c)), this.#c.powerline]
      : [this.#c.nodeDelegation];
    const now = Math.floor(Date.now() / 1000);
    const inv = await invoke({
      issuer: this.#c.signer,
      audience: this.#c.node,
      subject: space ?? this.#c.node,
      command: auth.command,
      args: requestArgs(method, route.websocket ? pathWithQuery.split("?")[0] : pathWithQuery, body),
      proofs,
      expiration: now + 120,
      issuedAt: now,
    });
    const carried = space ? [this.#c.powerline] : [this.#c.nodeDelegation];
    return (await encodeContainer([inv.bytes, ...carried.map((d) => d.bytes)], "C")) as string;
  }

  async #send<T>(method: string, path: string, bearer: string, body?: Uint8Array): Promise<T> {
    let res: Exchange;
    try {
      res = await exchange(this.url + path, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body ? { "content-type": "application/json" } : {}) },
        body,
      });
    } catch (e) {
      throw new DaemonUnreachable(this.url, e);
    }
    this.#noteHeads(path, res.header);
    const { text } = res;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(res.status, "cli/bad-response", `unexpected response ${res.status}: ${text.slice(0, 200)}`);
    }
    if (res.status < 200 || res.status > 299) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(res.status, errorCodeOf(err?.code, "http"), err?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  /** The heads of `space`'s log as the peer last reported them, and the latest time among them. */
  heads(space: string): { heads: string[]; at: Hlc } | undefined {
    const heads = this.#heads.get(space);
    return heads && { heads, at: this.#headsAt.get(space) ?? [0, 0] };
  }

  /** Remember the heads a space route reported, and move this client's clock past them. */
  #noteHeads(path: string, header: (name: string) => string | null): void {
    const heads = header(HEADS_HEADER);
    const match = /^\/v1\/spaces\/([^/?]+)/.exec(path);
    if (heads === null || !match) return;
    this.#heads.set(decodeURIComponent(match[1]), heads ? heads.split(",") : []);
    const at = (header(HEADS_AT_HEADER) ?? "").split(".").map(Number);
    if (isHlc(at)) {
      this.#hlc.observe(at);
      this.#headsAt.set(decodeURIComponent(match[1]), at);
    }
  }

  async request<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    const bytes = body === undefined ? undefined : utf8(JSON.stringify(body));
    return await this.#send<T>(method, path, await this.bearer(method, path, bytes), bytes);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** GET a route that answers with NDJSON, one parsed value per line as it arrives. */
  async *lines<T>(path: string, signal?: AbortSignal): AsyncGenerator<T> {
    const bearer = await this.bearer("GET", path);
    let res: Response;
    try {
      res = await fetch(this.url + path, { headers: { authorization: `Bearer ${bearer}` }, signal });
    } catch (e) {
      throw new DaemonUnreachable(this.url, e);
    }
    if (!res.ok || !res.body) {
      const err = ((await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(res.status, errorCodeOf(err?.code, "http"), err?.message ?? `HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line) yield JSON.parse(line) as T;
      }
    }
  }

  /** Sign an operation of another family (a repository push) and submit it to `path` (with its query). */
  async signed<T>(space: string, command: string, args: Record<string, unknown>, path: string): Promise<T> {
    return await this.#send<T>("POST", path, await this.signOp(space, command, args));
  }

  /** A query route whose body or answer is raw bytes (a pack): the response, checked for success. */
  async raw(method: "GET" | "POST", path: string, body?: Uint8Array, json?: unknown): Promise<Response> {
    const bytes = json === undefined ? undefined : utf8(JSON.stringify(json));
    const bearer = await this.bearer(method, path, bytes);
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          "content-type": bytes ? "application/json" : "application/octet-stream",
        },
        ...(bytes || body ? { body: (bytes ?? body) as BodyInit } : {}),
      });
    } catch (e) {
      throw new DaemonUnreachable(this.url, e);
    }
    if (!res.ok) {
      const err = ((await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(res.status, errorCodeOf(err?.code, "http"), err?.message ?? `HTTP ${res.status}`);
    }
    return res;
  }

  /** Sign a task operation as this client and submit it to its route. */
  async op<K extends OpKind, T = Record<string, unknown>>(
    space: string,
    kind: K,
    args: Omit<OpArgs<K>, "at">,
    options: OpOptions & { path?: string } = {},
  ): Promise<T> {
    const bearer = await this.signOp(space, OPS[kind].command, args as Record<string, unknown>, options);
    const task = encodeURIComponent((args as unknown as { task: string }).task);
    const base = `/v1/spaces/${encodeURIComponent(space)}/tasks`;
    const path = kind === "create"
      ? base
      : kind === "edit"
      ? `${base}/${task}`
      : `${base}/${task}/${
        kind === "label" ? "labels" : kind === "dependency" ? "dependencies" : kind === "comment" ? "comments" : kind
      }`;
    const method = kind === "edit" ? "PATCH" : "POST";
    return await this.#send<T>(method, options.path ?? path, bearer);
  }

  /** Sign an approval operation as this client and submit it to its route (APPROVAL_ROUTES). */
  async approvalOp<K extends ApprovalOpKind, T = Record<string, unknown>>(
    space: string,
    kind: K,
    args: Omit<ApprovalOpArgs<K>, "at">,
  ): Promise<T> {
    const bearer = await this.signOp(space, APPROVAL_OPS[kind].command, args as Record<string, unknown>);
    return await this.#send<T>("POST", approvalOpPath(space, kind, args as { request?: string }), bearer);
  }

  /** Sign a patch operation as this client and submit it to its route (PATCH_ROUTES). */
  async patchOp<K extends PatchOpKind, T = Record<string, unknown>>(
    space: string,
    kind: K,
    args: Omit<PatchOpArgs<K>, "at">,
    options: OpOptions & { query?: URLSearchParams } = {},
  ): Promise<T> {
    const bearer = await this.signOp(space, PATCH_OPS[kind].command, args as Record<string, unknown>, options);
    const path = patchOpPath(space, kind, args as { patch?: string });
    return await this.#send<T>("POST", options.query ? `${path}?${options.query}` : path, bearer);
  }

  /**
   * An operation of any family signed by this client, as a bearer: it names
   * what the peer's log held when this client last heard from it, and is
   * dated after it (see protocol/README.md, "Time").
   */
  async signOp(
    space: string,
    command: string,
    args: Record<string, unknown>,
    options: OpOptions = {},
  ): Promise<string> {
    const chain = (await this.#chainFor(space)).map((c) => CID.parse(c));
    if (!this.#heads.has(space)) {
      // Best effort: a key that may not read the space signs without naming heads.
      await this.get(`/v1/spaces/${encodeURIComponent(space)}`).catch(() => this.#heads.set(space, []));
    }
    const after = options.after ?? this.#heads.get(space) ?? [];
    const inv = await invoke({
      issuer: this.#c.signer,
      subject: space,
      command,
      args: { ...args, at: options.at ?? this.#hlc.now(), after } as unknown as Record<string, Ipld>,
      proofs: [...chain, this.#c.powerline],
      expiration: null,
      issuedAt: Math.floor(Date.now() / 1000),
    });
    return (await encodeContainer([inv.bytes, this.#c.powerline.bytes], "C")) as string;
  }
}

export interface OpOptions {
  /** Sign with this time instead of now (e.g. to submit work made offline). */
  at?: Hlc;
  /** Name these as what the operation follows instead of the heads last heard. */
  after?: string[];
}
