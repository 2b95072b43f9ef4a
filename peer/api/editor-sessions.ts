/**
 * Who may look at a run's editor, and the sessions that let them in.
 *
 * A session is opened on the dashboard's origin (an authorized API call) and
 * used on the editor's own origin (editor-origin.ts), so nothing the editor's
 * pages run shares an origin with the dashboard. It crosses between the two
 * as a ticket: random, short-lived and single-use, put in the URL the
 * dashboard opens. The editor's origin exchanges it, once, for the session's
 * secret in an HttpOnly cookie of its own, and from then on every request is
 * checked again: the secret, the expiry, and whether the caller may still
 * look (a revoked reviewer is out at the next request). Secrets and tickets
 * are kept only as their SHA-256.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Space } from "#protocol/space";
import type { WeftNode } from "#protocol/node";
import { Commands } from "#protocol/ucan";
import { HttpError } from "./errors.ts";

/** A run's editor as this peer reaches it (bridges/kubernetes/editor/editors.ts). */
export interface EditorLookup {
  find(space: string, task: string): { connect(): Promise<Duplex> } | undefined;
}

/** How long a session lasts (its cookie too); the editor going away ends it sooner. */
export const SESSION_MS = 60 * 60 * 1000;
/** How long a ticket may wait to be exchanged: the dashboard opens its URL at once. */
export const TICKET_MS = 60 * 1000;
/** The most sessions kept; the oldest is dropped past it. */
const MAX_SESSIONS = 1024;

interface Session {
  space: string;
  task: string;
  caller: string;
  /** The ticket's hash until it is exchanged; then undefined. */
  ticket?: Buffer;
  ticketExpires: number;
  /** The secret's hash once the ticket was exchanged. */
  secret?: Buffer;
  expires: number;
}

/**
 * May `did` look at the editor of `task`? The run task's holder (its
 * lease) and its creator (who asked for the run), and whoever holds
 * /weft/patch/review in the space, as its verified delegations say now.
 */
export function mayOpenEditor(space: Space, task: string, did: string, nowMs = Date.now()): boolean {
  const t = space.task(task);
  if (!t) return false;
  if (t.creator === did || t.lease?.holder === did) return true;
  return space.authority.chainsFor(did, Commands.patchReview, Math.floor(nowMs / 1000)).length > 0;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();
const matches = (given: string, hash: Buffer) => timingSafeEqual(sha256(Buffer.from(given, "base64url")), hash);

export class EditorSessions {
  readonly #sessions = new Map<string, Session>();

  /** A new session for `caller` on the editor of `task`: its id and the one ticket that opens it. */
  open(space: string, task: string, caller: string, now = Date.now()): { id: string; ticket: string } {
    for (const [id, s] of this.#sessions) if (this.#lapsed(s, now)) this.#sessions.delete(id);
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const id = randomBytes(16).toString("hex");
    const ticket = randomBytes(32);
    this.#sessions.set(id, {
      space,
      task,
      caller,
      ticket: sha256(ticket),
      ticketExpires: now + TICKET_MS,
      expires: now + SESSION_MS,
    });
    return { id, ticket: ticket.toString("base64url") };
  }

  /**
   * Exchange session `id`'s ticket, once, for its secret (what the cookie
   * holds). Undefined if the ticket is not its own, was used or is late.
   */
  redeem(id: string, ticket: string, now = Date.now()): string | undefined {
    const s = this.#sessions.get(id);
    if (!s?.ticket || s.ticketExpires <= now || s.expires <= now || !matches(ticket, s.ticket)) return undefined;
    const secret = randomBytes(32);
    s.ticket = undefined;
    s.secret = sha256(secret);
    return secret.toString("base64url");
  }

  /** The session `id` if `secret` is its own and it has not expired. */
  check(id: string, secret: string | undefined, now = Date.now()): Session | undefined {
    const s = this.#sessions.get(id);
    if (!s?.secret || !secret || s.expires <= now) return undefined;
    return matches(secret, s.secret) ? s : undefined;
  }

  drop(id: string): void {
    this.#sessions.delete(id);
  }

  #lapsed(s: Session, now: number): boolean {
    return s.expires <= now || (s.ticket !== undefined && s.ticketExpires <= now);
  }
}

/** What checking a session needs: the node's spaces and the editors this peer reaches. */
export interface EditorAccess {
  node: Pick<WeftNode, "space">;
  editors: EditorLookup;
  sessions: EditorSessions;
}

/**
 * The editor session `id` may reach: `secret` is its own, it has not
 * expired, its caller may still look, its editor is still there. Throws the
 * HttpError to answer otherwise.
 */
export function admitted(access: EditorAccess, id: string, secret?: string) {
  const { sessions } = access;
  const session = sessions.check(id, secret);
  const space = session && access.node.space(session.space);
  if (!session || !space || !mayOpenEditor(space, session.task, session.caller)) {
    if (session) sessions.drop(id);
    throw new HttpError(
      403,
      "editor/forbidden",
      "open the editor from the dashboard (or POST /v1/spaces/:space/tasks/:task/editor) and follow its URL",
    );
  }
  const editor = access.editors.find(session.space, session.task);
  if (!editor) {
    sessions.drop(id);
    throw new HttpError(410, "editor/gone", `the editor of task ${session.task} is gone: its run ended`);
  }
  return editor;
}
