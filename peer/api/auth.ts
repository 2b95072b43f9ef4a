/**
 * Authorizing API calls with the mesh's own verifier. A query's bearer is a
 * UCAN container holding an invocation addressed to this node that names
 * the request (see request.ts); an operation's bearer holds the signed task
 * operation itself, which the space checks like any other. A query may
 * instead be MAC'd under an API session (sessions.ts, session-crypto.ts),
 * which one such bearer opened: it then costs no signature check and no
 * durable write, and is held to what that bearer could do.
 */
import type { WeftNode } from "#protocol/node";
import { chainExpiry, type Space } from "#protocol/space";
import {
  Commands,
  decodeContainer,
  decodeEnvelope,
  type Delegation,
  type Invocation,
  invocationFromEnvelope,
  isDelegationTag,
  isInvocationTag,
  matchPolicy,
  MemoryProofStore,
  MemoryRevocationStore,
  proves,
  UcanError,
  Validator,
} from "#protocol/ucan";
import type { Verifier } from "#protocol/identity";
import { OPS } from "#protocol/tasks";
import { HttpError } from "./errors.ts";
import type { StockGrant } from "#protocol/sync";
import { MAX_QUERY_TTL_SECONDS, requestArgs } from "./request.ts";
import { isStandingSyncToken } from "./sync-tokens.ts";
import type { RouteDef } from "./routes.ts";
import { ApiSessions, SESSION_SECONDS } from "./sessions.ts";
import {
  isSessionAuthorization,
  macMatches,
  parseSessionAuthorization,
  sessionKey,
  sessionKeyPair,
  sessionMac,
  SESSIONS_PATH,
} from "./session-crypto.ts";

/** What a query's credentials established: who asked, with what chain, in which space. */
export interface Authorized {
  /** Who signed the request (or the bearer that opened its session). */
  caller: string;
  /** The proof chain, root first: what the caller holds. */
  chain: readonly Delegation[];
  space?: Space;
}

export interface Bearer {
  /** Shape-checked, its signature not yet. */
  invocation: Invocation;
  /** The delegations it carries, by CID; each is checked when a chain uses it (most are known already). */
  proofs: MemoryProofStore;
}

/** Parse `Authorization: Bearer <container>` (or a ?token= for WebSockets). */
export async function readBearer(header: string | undefined | null): Promise<Bearer> {
  if (!header) {
    throw new HttpError(401, "auth/missing", "send Authorization: Bearer <UCAN container>; `weft token` prints one");
  }
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : header.trim();
  const tokens = await decodeContainer(token);
  const proofs = new MemoryProofStore();
  let invocation: Invocation | undefined;
  for (const t of tokens) {
    const envelope = decodeEnvelope(t); // each token decoded (and hashed) once
    if (isInvocationTag(envelope.tag)) {
      if (invocation) throw new UcanError("MalformedToken", "a bearer holds exactly one invocation");
      invocation = invocationFromEnvelope(envelope);
    } else if (isDelegationTag(envelope.tag)) {
      proofs.put(envelope);
    } else {
      throw new UcanError("MalformedToken", `a bearer holds an invocation and delegations, not ${envelope.tag}`);
    }
  }
  if (!invocation) throw new UcanError("MalformedToken", "the bearer holds no invocation");
  return { invocation, proofs };
}

/** Where used bearers are kept across restarts (peer/storage/replay-journal.ts on the daemon). */
export interface ReplayJournal {
  /** Resolves once the entry is durable. */
  add(cid: string, exp: number): Promise<void>;
  /** Replace what is kept with `live`, in order with the adds around it. */
  rewrite(live: ReadonlyMap<string, number>): void;
}

/**
 * Invocations seen, until they expire: a bearer works once. With a journal,
 * a use is on disk before the request is answered, so a restart does not
 * make a used bearer good again. Bearers expire within minutes, so expired
 * entries are pruned (and the journal rewritten) as the set doubles.
 */
export class ReplayCache {
  readonly #seen: Map<string, number>;
  readonly #journal?: ReplayJournal;
  #pruneAt: number;

  constructor(options: { seen?: Map<string, number>; journal?: ReplayJournal } = {}) {
    this.#seen = options.seen ?? new Map();
    this.#journal = options.journal;
    this.#pruneAt = Math.max(1024, 2 * this.#seen.size);
  }

  /**
   * Refuse a bearer seen before (thrown at once, synchronously: a second use is refused even while the first is
   * being recorded) and record this use; resolves once the use is durable. Whoever acts on the bearer before
   * that must hold back its effects (and its answer) until then.
   */
  check(cid: string, exp: number, now: number): Promise<void> {
    if (this.#seen.has(cid)) throw new HttpError(401, "auth/replayed", "this bearer was already used; make a new one");
    this.#seen.set(cid, exp);
    if (this.#seen.size > this.#pruneAt) {
      for (const [k, e] of this.#seen) if (e < now) this.#seen.delete(k);
      this.#pruneAt = Math.max(1024, 2 * this.#seen.size);
      this.#journal?.rewrite(new Map(this.#seen));
    }
    return this.#journal?.add(cid, exp) ?? Promise.resolve();
  }
}

export class ApiAuthority {
  readonly #node: WeftNode;
  readonly #nodeValidator: Validator;
  /** For bearers principals sign about themselves: nothing is trusted but their own key. */
  readonly #selfValidator: Validator;
  readonly #replays: ReplayCache;
  readonly #sessions = new ApiSessions();
  /** Node-level delegations revoked (e.g. a leaked CLI token). */
  readonly nodeRevocations = new MemoryRevocationStore();

  constructor(node: WeftNode, verifier?: Verifier, replays = new ReplayCache()) {
    this.#node = node;
    this.#replays = replays;
    this.#selfValidator = new Validator({ proofs: new MemoryProofStore(), verifier });
    this.#nodeValidator = new Validator({
      proofs: new MemoryProofStore(),
      revocations: this.nodeRevocations,
      verifier,
    });
  }

  /** How many API sessions are open (held in memory only). */
  get openSessions(): number {
    return this.#sessions.size;
  }

  #space(id: string): Space {
    const space = this.#node.space(id);
    if (!space) throw new HttpError(404, "not-found", `this node is not in a space ${id}`);
    return space;
  }

  /**
   * Check a query's credentials (a bearer, or a session's MAC); resolves to
   * who asked, the proof chain it was validated with (what the caller holds)
   * and, for space routes, the space.
   */
  async query(
    header: string | undefined | null,
    route: RouteDef & { auth: { kind: "query" } },
    params: Record<string, string>,
    /** The request; its body is read (bounded, by the caller) only once the credentials are otherwise good. */
    request: { method: string; path: string; body?: () => Promise<Uint8Array> },
  ): Promise<Authorized> {
    const { durable, ...checked } = await this.read(header, route, params, request);
    await durable;
    return checked;
  }

  /**
   * `query` for a request that changes nothing (a GET): the same checks,
   * but a bearer's use is still being made durable (an fdatasync, ~1.5 ms
   * here) while the caller computes its answer. The caller must await
   * `durable` before sending anything: a used bearer is on disk before it
   * is answered, as with `query`. A session's request has nothing to write.
   */
  async read(
    header: string | undefined | null,
    route: RouteDef & { auth: { kind: "query" } },
    params: Record<string, string>,
    request: { method: string; path: string; body?: () => Promise<Uint8Array> },
  ): Promise<Authorized & { durable: Promise<void> }> {
    if (isSessionAuthorization(header)) {
      return { ...await this.#bySession(header, route, params, request), durable: Promise.resolve() };
    }
    const bearer = await readBearer(header);
    const space = route.auth.scope === "space" ? this.#space(params.space) : undefined;
    const { invocation, chain } = await this.#checkQueryBearer(bearer, space, request, route.auth.command);
    const durable = this.#replays.check(invocation.cid.toString(), invocation.exp, Math.floor(Date.now() / 1000));
    durable.catch(() => {}); // awaited by the caller; not unhandled meanwhile
    return { caller: invocation.iss, chain, ...(space ? { space } : {}), durable };
  }

  /**
   * What every query bearer must be: a valid chain on `space` (or on this
   * node), addressed to this node, none of it revoked by this node, invoking
   * `command` (if given), short-lived, and naming `request` exactly (its
   * body is read last, once all else holds).
   */
  async #checkQueryBearer(
    bearer: Bearer,
    space: Space | undefined,
    request: { method: string; path: string; body?: () => Promise<Uint8Array> },
    command?: string,
  ): Promise<{ invocation: Invocation & { exp: number }; chain: readonly Delegation[] }> {
    const validator = space ? space.authority.validator : this.#nodeValidator;
    const { invocation, proofs: chain } = await validator.validate(bearer.invocation, {
      proofs: bearer.proofs,
      audience: this.#node.did,
    });
    if (invocation.aud !== this.#node.did) {
      throw new UcanError("InvalidAudience", "an API invocation must name this node as aud");
    }
    // A key this node revoked (a rotated CLI key) stays refused in spaces that never recorded it
    // (node routes need no check here: their validator already consults nodeRevocations).
    const revoked = space && chain.find((d) => this.nodeRevocations.isRevoked(d.cid));
    if (revoked) throw new UcanError("Revoked", `delegation ${revoked.cid} was revoked by this node`);
    const subject = space ? space.id : this.#node.did;
    if (invocation.sub !== subject) throw new UcanError("InvalidSubject", `this route acts on ${subject}`);
    if (command !== undefined && invocation.cmd !== command) {
      throw new UcanError("InvalidClaim", `this route needs an invocation of ${command}, not ${invocation.cmd}`);
    }
    const nowSec = Math.floor(Date.now() / 1000);
    if (invocation.exp === null || invocation.exp > nowSec + MAX_QUERY_TTL_SECONDS) {
      throw new UcanError("InvalidPayload", `an API invocation must expire within ${MAX_QUERY_TTL_SECONDS} s`);
    }
    const want = requestArgs(request.method, request.path, await request.body?.());
    const args = invocation.args;
    if (
      Object.keys(args).length !== Object.keys(want).length ||
      Object.entries(want).some(([k, v]) => args[k] !== v)
    ) {
      throw new UcanError("InvalidClaim", `the invocation is for ${args.method} ${args.path}, not this request`);
    }
    return { invocation: invocation as Invocation & { exp: number }, chain };
  }

  /**
   * Open an API session with a query bearer naming `POST /v1/sessions` and
   * its body (so `clientKey` is signed). The session acts on the bearer's
   * subject (a space, or this node) for its command and those below it, with
   * its chain; it ends after SESSION_SECONDS, when that chain lapses or is
   * revoked, or when this peer stops. The bearer's use is durable before the
   * answer, as for any query. Resolves to the session's id, this peer's half
   * of the key agreement, and when the session ends (ms).
   */
  async openSession(
    header: string | undefined | null,
    body: Uint8Array,
    clientKey: string,
  ): Promise<{ session: string; key: string; endsAt: number; subject: string; command: string }> {
    const bearer = await readBearer(header);
    const subject = bearer.invocation.sub;
    const space = subject === this.#node.did ? undefined : this.#space(subject);
    const request = { method: "POST", path: SESSIONS_PATH, body: () => Promise.resolve(body) };
    const { invocation, chain } = await this.#checkQueryBearer(bearer, space, request);
    const own = sessionKeyPair();
    const key = sessionKey(own.privateKey, clientKey, invocation.cid.toString()); // refuses a bad key before the use
    await this.#replays.check(invocation.cid.toString(), invocation.exp, Math.floor(Date.now() / 1000));
    const now = Date.now();
    const lapses = chainExpiry(chain);
    const session = this.#sessions.open({
      subject,
      inSpace: space !== undefined,
      command: invocation.cmd,
      caller: invocation.iss,
      chain,
      key,
      endsAt: Math.min(now + SESSION_SECONDS * 1000, lapses === null ? Infinity : (lapses + 1) * 1000),
    }, now);
    return { session: session.id, key: own.publicKey, endsAt: session.endsAt, subject, command: session.command };
  }

  /**
   * A query MAC'd under a session: the session is live, the MAC is this
   * request's under its key (before anything about the session is said),
   * it acts on this route's subject for a command covering the route's, no
   * delegation of its chain is revoked (by the space or by this node), the
   * chain's policies admit the request as they would a bearer naming it, and
   * the counter was never used. Only a live session's request has its body
   * read (for the MAC), as only a bearer that verifies does.
   */
  async #bySession(
    header: string,
    route: RouteDef & { auth: { kind: "query" } },
    params: Record<string, string>,
    request: { method: string; path: string; body?: () => Promise<Uint8Array> },
  ): Promise<Authorized> {
    const { id, counter, mac } = parseSessionAuthorization(header);
    const session = this.#sessions.get(id);
    if (!session) {
      throw new HttpError(
        401,
        "auth/session-unknown",
        `no session ${id} here: it ended, or this peer restarted (sessions live only in its memory); ` +
          `open a new one (POST ${SESSIONS_PATH})`,
      );
    }
    const fields = requestArgs(request.method, request.path, await request.body?.());
    if (!macMatches(mac, sessionMac(session.key, id, counter, fields))) {
      throw new HttpError(
        401,
        "auth/session-mac",
        "the MAC is not this request's (method, path, query and body) under the session's key",
      );
    }
    const space = route.auth.scope === "space" ? this.#space(params.space) : undefined;
    const subject = space ? space.id : this.#node.did;
    if (session.subject !== subject || !proves(session.command, route.auth.command)) {
      throw new HttpError(
        403,
        "auth/session-scope",
        `this session acts on ${session.subject} for ${session.command}; this route needs ${route.auth.command} ` +
          `on ${subject}: open a session for that, or send a signed bearer`,
      );
    }
    const revoked = session.chainKeys.findIndex((k) =>
      this.nodeRevocations.isRevokedKey(k) || space?.authority.isRevokedKey(k)
    );
    if (revoked >= 0) {
      this.#sessions.end(id);
      throw new UcanError("Revoked", `delegation ${session.chain[revoked].cid} was revoked; this session has ended`);
    }
    for (const d of session.chain) {
      const match = matchPolicy(d.pol, fields);
      if (!match.ok) {
        const statement = JSON.stringify(d.pol.source[match.failed])?.slice(0, 200);
        throw new UcanError("MatchError", `the request fails policy statement ${statement} of ${d.cid}`);
      }
    }
    if (!session.counters.take(counter)) {
      throw new HttpError(
        401,
        "auth/session-replayed",
        `counter ${counter} of this session was used already (or is too far behind its newest): ` +
          "number each request afresh",
      );
    }
    return { caller: session.caller, chain: session.chain, ...(space ? { space } : {}) };
  }

  /**
   * Check a bearer a principal signs about itself, with no proofs: an
   * invocation of `command` whose issuer is its subject, addressed to this
   * node, naming the request, short-lived and used once. Resolves to the
   * principal's DID; what it may see is then only what concerns it.
   */
  async self(header: string | undefined | null, command: string, request: { method: string; path: string }) {
    const bearer = await readBearer(header);
    const { invocation } = await this.#selfValidator.validate(bearer.invocation, { audience: this.#node.did });
    if (invocation.prf.length !== 0 || invocation.iss !== invocation.sub || invocation.aud !== this.#node.did) {
      throw new UcanError(
        "InvalidClaim",
        "sign this request yourself, about yourself (sub = iss, no proofs), to this node",
      );
    }
    if (invocation.cmd !== command) {
      throw new UcanError("InvalidClaim", `this route needs an invocation of ${command}, not ${invocation.cmd}`);
    }
    const nowSec = Math.floor(Date.now() / 1000);
    if (invocation.exp === null || invocation.exp > nowSec + MAX_QUERY_TTL_SECONDS) {
      throw new UcanError("InvalidPayload", `an API invocation must expire within ${MAX_QUERY_TTL_SECONDS} s`);
    }
    const want = requestArgs(request.method, request.path);
    const args = invocation.args;
    if (Object.keys(args).length !== 2 || args.method !== want.method || args.path !== want.path) {
      throw new UcanError("InvalidClaim", `the invocation is for ${args.method} ${args.path}, not this request`);
    }
    await this.#replays.check(invocation.cid.toString(), invocation.exp, nowSec);
    return invocation.iss;
  }

  /**
   * Check the token a stock automerge-repo client puts in its WebSocket URL
   * (`/v1/sync?token=…`): an invocation of /weft/space/sync on a space this
   * node is in, addressed to this node, naming GET /v1/sync. Resolves to
   * what it grants: the space, who holds it, until when, and a re-check for
   * when the space's revocations change.
   */
  async syncToken(token: string): Promise<StockGrant> {
    const bearer = await readBearer(token);
    const space = this.#space(bearer.invocation.sub);
    const openedAt = Math.floor(Date.now() / 1000);
    // The invocation is judged at the second the session opened (it asked to open one then), its chain's
    // revocations as of each re-check; the chain's own lapse ends the session by the timer below.
    const check = () =>
      space.authority.validator.validate(bearer.invocation, {
        proofs: bearer.proofs,
        audience: this.#node.did,
        now: openedAt,
      });
    const { invocation, proofs } = await check();
    if (invocation.aud !== this.#node.did) {
      throw new UcanError("InvalidAudience", "the token must name this node as aud");
    }
    if (invocation.cmd !== Commands.spaceSync) {
      throw new UcanError("InvalidClaim", `a sync token invokes ${Commands.spaceSync}`);
    }
    const want = requestArgs("GET", "/v1/sync");
    if (
      invocation.args.method !== want.method || invocation.args.path !== want.path ||
      Object.keys(invocation.args).length !== 2
    ) {
      throw new UcanError("InvalidClaim", "a sync token names GET /v1/sync");
    }
    // A token minted by POST /v1/spaces/:space/sync-tokens may be used again until it expires
    // (revocable by its delegation); any other works once, within minutes.
    let recorded: Promise<void> | undefined;
    if (!isStandingSyncToken(space, invocation, proofs)) {
      if (invocation.exp === null || invocation.exp > openedAt + MAX_QUERY_TTL_SECONDS) {
        throw new UcanError(
          "InvalidPayload",
          `a self-made sync token must expire within ${MAX_QUERY_TTL_SECONDS} s; ` +
            "for one a client can reconnect with for hours, ask the peer: weft token --sync",
        );
      }
      // Not awaited: the socket opens and its join is answered now (the stock client gives both one second,
      // and a durable write can take longer under load); the adapter serves nothing until the use is on disk.
      recorded = this.#replays.check(invocation.cid.toString(), invocation.exp, openedAt);
      recorded.catch(() => {}); // the adapter acts on a failure; a grant never used has none to act on
    }
    // The token opens the session; the chain it rests on keeps it open. A session lives as long as the
    // holder's membership (through its chain's last second, and until a revocation), as a Weft session
    // does: the invocation's short `exp` bounds when it may open one, not how long the holder may sync.
    const lapses = chainExpiry(proofs);
    return {
      spaces: new Set([space.id]),
      who: invocation.iss,
      lapsesInMs: lapses === null ? null : (lapses + 1) * 1000 - Date.now(),
      stillValid: () => check().then(() => true, () => false),
      ...(recorded ? { recorded } : {}),
    };
  }

  /** Check an operation's bearer against its route; resolves to the space and the operation's bytes. */
  async op(
    header: string | undefined | null,
    route: RouteDef & { auth: { kind: "op" } },
    params: Record<string, string>,
  ): Promise<{ space: Space; bytes: Uint8Array; invocation: Invocation; proofs: MemoryProofStore }> {
    return await this.signed(header, OPS[route.auth.op].command, params);
  }

  /**
   * Check a bearer that is a signed operation of `command` (of any family:
   * a task, a repository push, a patch operation) on the space the path
   * names; a path parameter it shares with the operation's args (task,
   * repo, patch) must agree.
   */
  async signed(
    header: string | undefined | null,
    command: string,
    params: Record<string, string>,
  ): Promise<{ space: Space; bytes: Uint8Array; invocation: Invocation; proofs: MemoryProofStore }> {
    const bearer = await readBearer(header);
    const space = this.#space(params.space);
    const invocation = await space.authority.validator.verifyInvocationSignature(bearer.invocation);
    if (invocation.sub !== space.id) throw new UcanError("InvalidSubject", `this route acts on ${space.id}`);
    if (invocation.cmd !== command) {
      throw new UcanError("InvalidClaim", `this route takes ${command}, not ${invocation.cmd}`);
    }
    for (const key of ["task", "repo", "patch"]) {
      if (params[key] !== undefined && invocation.args[key] !== params[key]) {
        throw new HttpError(
          400,
          "input/mismatch",
          `the operation is for ${key} ${invocation.args[key]}, not ${params[key]}`,
        );
      }
    }
    const at = invocation.args.at;
    if (
      !Array.isArray(at) || typeof at[0] !== "number" || Math.abs(at[0] - Date.now()) > MAX_QUERY_TTL_SECONDS * 1000
    ) {
      throw new HttpError(
        400,
        "input/clock",
        "the operation's timestamp is more than 10 minutes off this node's clock",
      );
    }
    return { space, bytes: invocation.bytes, invocation, proofs: bearer.proofs };
  }
}
