/**
 * An HTTP API client that authorizes each call the way the server checks
 * it: a signed task operation for task changes, and for queries an API
 * session per subject (a space, or the node), opened with one fresh signed
 * invocation and then a MAC per request (session-crypto.ts). A session the
 * peer no longer knows (it restarted, or the session ended) is opened again
 * and the request sent once more; where the peer will not open one (an old
 * peer, or credentials that may not), each query carries its own signed,
 * single-use invocation naming the request, as before. Used by the `weft`
 * CLI and the tests.
 */
import type { KeyObject } from "node:crypto";
import type { Signer } from "#protocol/identity";
import { type ErrorCode, errorCodeOf, utf8, WeftError } from "#protocol";
import { type Delegation, encodeContainer, invoke, type Ipld, proves } from "#protocol/ucan";
import { CID } from "multiformats/cid";
import { type Hlc, HybridClock, isHlc, type OpArgs, type OpKind, OPS } from "#protocol/tasks";
import { requestArgs } from "./request.ts";
import { type Exchange, exchange } from "./http-exchange.ts";
import { approvalOpPath, HEADS_AT_HEADER, HEADS_HEADER, matchRoute, patchOpPath } from "./routes.ts";
import { PATCH_OPS, type PatchOpArgs, type PatchOpKind } from "#protocol/patch";
import { APPROVAL_OPS, type ApprovalOpArgs, type ApprovalOpKind } from "#protocol/approvals";
import type { Credentials } from "./credentials.ts";
import { sessionAuthorization, sessionKey, sessionKeyPair, SESSIONS_PATH } from "./session-crypto.ts";

/** A session this client holds with the peer, for one subject. */
interface ClientSession {
  id: string;
  key: KeyObject;
  /** What it covers: this command and those below it. */
  command: string;
  /** When the peer ends it (ms). */
  endsAt: number;
  /** The counter of the next request. */
  next: number;
  /** The peer said it does not know it any more. */
  gone?: boolean;
}

/** A session closer than this to its end is opened afresh rather than used. */
const RENEW_BEFORE_MS = 30_000;

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
  /** Sessions by subject; undefined where the peer would not open one (then each query is signed). */
  readonly #sessions = new Map<string, Promise<ClientSession | undefined>>();
  readonly #useSessions: boolean;

  /**
   * `chains` preloads the node's chain (CIDs, root first) per space, for a
   * client whose credentials cannot read the node's space list. With
   * `sessions: false` every query carries its own signed invocation.
   */
  constructor(
    credentials: Credentials,
    url = credentials.url,
    chains: Record<string, string[]> = {},
    options: { sessions?: boolean } = {},
  ) {
    this.#c = credentials;
    this.url = url.replace(/\/$/, "");
    for (const [space, chain] of Object.entries(chains)) this.#chains.set(space, chain);
    this.#useSessions = options.sessions ?? true;
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

  /** The query route `method pathWithQuery` is, and the subject it acts on (a space, or the node). */
  #queryRoute(method: string, pathWithQuery: string) {
    const match = matchRoute(method, pathWithQuery.split("?")[0]);
    if (!match || match.route.auth.kind !== "query") {
      throw new WeftError("NoRoute", "cli/no-route", `no query route ${method} ${pathWithQuery}`);
    }
    const { route, params } = match;
    const auth = route.auth as { kind: "query"; scope: "node" | "space"; command: string };
    const space = auth.scope === "space" ? params.space : undefined;
    return { route, command: auth.command, space, subject: space ?? this.#c.node };
  }

  /** A bearer for one request to a query route. */
  async bearer(method: string, pathWithQuery: string, body?: Uint8Array): Promise<string> {
    const { route, command, space } = this.#queryRoute(method, pathWithQuery);
    const path = route.websocket ? pathWithQuery.split("?")[0] : pathWithQuery;
    return (await this.#signQuery(space, command, requestArgs(method, path, body))).bearer;
  }

  /** A single-use query invocation of `command` on `space` (or the node), with `args`, as a bearer. */
  async #signQuery(
    space: string | undefined,
    command: string,
    args: Record<string, string>,
  ): Promise<{ bearer: string; cid: string }> {
    const proofs: Array<Delegation | CID> = space
      ? [...(await this.#chainFor(space)).map((c) => CID.parse(c)), this.#c.powerline]
      : [this.#c.nodeDelegation];
    const now = Math.floor(Date.now() / 1000);
    const inv = await invoke({
      issuer: this.#c.signer,
      audience: this.#c.node,
      subject: space ?? this.#c.node,
      command,
      args,
      proofs,
      expiration: now + 120,
      issuedAt: now,
    });
    const carried = space ? [this.#c.powerline] : [this.#c.nodeDelegation];
    const bearer = (await encodeContainer([inv.bytes, ...carried.map((d) => d.bytes)], "C")) as string;
    return { bearer, cid: inv.cid.toString() };
  }

  /**
   * The Authorization header for one query: a MAC under the subject's
   * session if there is one that covers the route, else a signed bearer.
   */
  async #authorization(
    method: string,
    pathWithQuery: string,
    body?: Uint8Array,
  ): Promise<{ header: string; session?: ClientSession }> {
    const { route, command, space, subject } = this.#queryRoute(method, pathWithQuery);
    const session = this.#useSessions && !route.websocket
      ? await this.#session(subject, space).catch((e) => {
        if (e instanceof ApiError) return undefined; // the peer failed to open one (a 5xx): sign this one, retry later
        throw e;
      })
      : undefined;
    if (session && proves(session.command, command)) {
      const fields = requestArgs(method, pathWithQuery, body);
      return { header: sessionAuthorization(session.key, session.id, session.next++, fields), session };
    }
    return { header: `Bearer ${await this.bearer(method, pathWithQuery, body)}` };
  }

  /** The live session on `subject`, opened if there is none (or it ends soon); undefined where none opens. */
  async #session(subject: string, space: string | undefined): Promise<ClientSession | undefined> {
    const held = this.#sessions.get(subject);
    if (held) {
      const s = await held;
      if (!s || (!s.gone && s.endsAt - Date.now() > RENEW_BEFORE_MS)) return s;
      if (this.#sessions.get(subject) !== held) return await this.#session(subject, space);
    }
    const opening = this.#open(space);
    this.#sessions.set(subject, opening);
    opening.catch(() => this.#sessions.get(subject) === opening && this.#sessions.delete(subject));
    return await opening;
  }

  /**
   * Open a session on `space` (or the node) for everything these
   * credentials hold there: the command of the delegation they end with.
   * Undefined if the peer refuses (an older peer, or a chain that may not
   * name this request); each query is then signed instead.
   */
  async #open(space: string | undefined): Promise<ClientSession | undefined> {
    const pair = sessionKeyPair();
    const body = utf8(JSON.stringify({ key: pair.publicKey }));
    const command = (space ? this.#c.powerline : this.#c.nodeDelegation).cmd;
    const { bearer, cid } = await this.#signQuery(space, command, requestArgs("POST", SESSIONS_PATH, body));
    let opened: { session: string; key: string; endsAt: number; command: string };
    try {
      opened = await this.#send("POST", SESSIONS_PATH, `Bearer ${bearer}`, body);
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) return undefined;
      throw e;
    }
    return {
      id: opened.session,
      key: sessionKey(pair.privateKey, opened.key, cid),
      command: opened.command,
      endsAt: opened.endsAt,
      next: 1,
    };
  }

  /**
   * Send a query with `send`, authorized by #authorization; if the peer no
   * longer knows the session, open another and send it once more (the peer
   * refused it before acting on it).
   */
  async #authorized<T>(
    method: string,
    pathWithQuery: string,
    body: Uint8Array | undefined,
    send: (authorization: string) => Promise<T>,
  ): Promise<T> {
    const first = await this.#authorization(method, pathWithQuery, body);
    try {
      return await send(first.header);
    } catch (e) {
      if (!first.session || !(e instanceof ApiError) || e.code !== "auth/session-unknown") throw e;
      first.session.gone = true;
      return await send((await this.#authorization(method, pathWithQuery, body)).header);
    }
  }

  async #send<T>(method: string, path: string, authorization: string, body?: Uint8Array): Promise<T> {
    let res: Exchange;
    try {
      res = await exchange(this.url + path, {
        method,
        headers: { authorization, ...(body ? { "content-type": "application/json" } : {}) },
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
    return await this.#authorized(method, path, bytes, (auth) => this.#send<T>(method, path, auth, bytes));
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** GET a route that answers with NDJSON, one parsed value per line as it arrives. */
  async *lines<T>(path: string, signal?: AbortSignal): AsyncGenerator<T> {
    const res = await this.#authorized(
      "GET",
      path,
      undefined,
      (authorization) => this.#fetch(path, { headers: { authorization }, signal }),
    );
    if (!res.body) throw new ApiError(res.status, "cli/bad-response", `no body from ${path}`);
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
    return await this.#send<T>("POST", path, `Bearer ${await this.signOp(space, command, args)}`);
  }

  /** A query route whose body or answer is raw bytes (a pack): the response, checked for success. */
  async raw(method: "GET" | "POST", path: string, body?: Uint8Array, json?: unknown): Promise<Response> {
    const bytes = json === undefined ? undefined : utf8(JSON.stringify(json));
    return await this.#authorized(method, path, bytes, (authorization) =>
      this.#fetch(path, {
        method,
        headers: { authorization, "content-type": bytes ? "application/json" : "application/octet-stream" },
        ...(bytes || body ? { body: (bytes ?? body) as BodyInit } : {}),
      }));
  }

  /** fetch `path` from the peer; an answer other than 2xx is thrown as the ApiError it carries. */
  async #fetch(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url + path, init);
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
    return await this.#send<T>(method, options.path ?? path, `Bearer ${bearer}`);
  }

  /** Sign an approval operation as this client and submit it to its route (APPROVAL_ROUTES). */
  async approvalOp<K extends ApprovalOpKind, T = Record<string, unknown>>(
    space: string,
    kind: K,
    args: Omit<ApprovalOpArgs<K>, "at">,
  ): Promise<T> {
    const bearer = await this.signOp(space, APPROVAL_OPS[kind].command, args as Record<string, unknown>);
    return await this.#send<T>("POST", approvalOpPath(space, kind, args as { request?: string }), `Bearer ${bearer}`);
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
    return await this.#send<T>("POST", options.query ? `${path}?${options.query}` : path, `Bearer ${bearer}`);
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
