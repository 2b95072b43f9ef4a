/**
 * The API sessions this peer has open, in memory only. A session is what
 * one signed, single-use, journalled bearer opened (auth.ts, `openSession`):
 * its subject and command, the proof chain that bearer was validated with,
 * the key agreed with its holder, when it ends, and the counters it has
 * used. Nothing of it is written anywhere, so a restart ends every session:
 * a request MAC'd before the restart has no key to be checked against after
 * it, and its holder must open a new session with a new bearer.
 */
import { type KeyObject, randomBytes } from "node:crypto";
import type { Delegation } from "#protocol/ucan";
import { cidKey } from "#protocol/codec";
import { CounterWindow } from "./counter-window.ts";

/** The longest a session lasts; the chain behind it lapsing ends it sooner. */
export const SESSION_SECONDS = 15 * 60;
/** The most sessions held; past it, opening one ends the oldest (its holder just opens another). */
export const MAX_SESSIONS = 4096;

export interface ApiSession {
  readonly id: string;
  /** The space's id, or this node's DID for node routes. */
  readonly subject: string;
  /** Whether `subject` is a space (else it is this node). */
  readonly inSpace: boolean;
  /** The command the opening bearer invoked: the session covers it and the commands below it. */
  readonly command: string;
  /** Who signed the opening bearer. */
  readonly caller: string;
  /** The proof chain the opening bearer was validated with, root first. */
  readonly chain: readonly Delegation[];
  /** Its CIDs as cidKey strings, for the revocation check on every request. */
  readonly chainKeys: readonly string[];
  readonly key: KeyObject;
  /** When it ends, in ms since the epoch. */
  readonly endsAt: number;
  readonly counters: CounterWindow;
}

export class ApiSessions {
  readonly #open = new Map<string, ApiSession>();

  /** How many are live (ended ones are dropped on the way). */
  get size(): number {
    const now = Date.now();
    for (const [id, s] of this.#open) if (s.endsAt <= now) this.#open.delete(id);
    return this.#open.size;
  }

  /** Hold a new session: returns it with its fresh random id. */
  open(
    init: Omit<ApiSession, "id" | "counters" | "chainKeys">,
    nowMs = Date.now(),
  ): ApiSession {
    if (this.#open.size >= MAX_SESSIONS) {
      for (const [id, s] of this.#open) if (s.endsAt <= nowMs) this.#open.delete(id);
      while (this.#open.size >= MAX_SESSIONS) this.#open.delete(this.#open.keys().next().value!);
    }
    const session: ApiSession = {
      ...init,
      id: randomBytes(16).toString("base64url"),
      chainKeys: init.chain.map((d) => cidKey(d.cid)),
      counters: new CounterWindow(),
    };
    this.#open.set(session.id, session);
    return session;
  }

  /** The live session `id`, or undefined (unknown, or ended: then it is dropped). */
  get(id: string, nowMs = Date.now()): ApiSession | undefined {
    const s = this.#open.get(id);
    if (s && s.endsAt <= nowMs) {
      this.#open.delete(id);
      return undefined;
    }
    return s;
  }

  end(id: string): void {
    this.#open.delete(id);
  }
}
