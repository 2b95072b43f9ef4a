/**
 * When who may sync a space changes — the space was added here, its members
 * or revocations changed, or one of its delegations lapsed — everything that
 * rests on it is told: sessions re-check and re-prove, the repo re-applies
 * its share policy, stock clients are re-checked. A lapse is a change too,
 * so each space has a timer for its next delegation's expiry. A timer can
 * fire before the node's clock reads the lapse (Node counts a timeout from
 * the event loop's cached time), and a re-check then would still find the
 * delegation valid and miss its lapse: listeners are told only once the
 * clock has passed it.
 */
import type { NodeContext } from "./node-context.ts";
import type { SharePolicy } from "./share-policy.ts";

/** The longest a timer can wait; a later lapse is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class AuthorityChanges {
  readonly #ctx: NodeContext;
  readonly #share: SharePolicy;
  readonly #listeners = new Set<(space: string) => void>();
  /** Per space: fires when its next delegation lapses. */
  readonly #lapseTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(ctx: NodeContext, share: SharePolicy) {
    this.#ctx = ctx;
    this.#share = share;
  }

  /** Call `listener` with a space's DID whenever who may sync it changes; returns how to stop. */
  onChange(listener: (space: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Space `id` was added here, or its members or revocations changed, or one of its delegations lapsed. */
  changed(id: string): void {
    for (const l of this.#listeners) l(id);
    this.#share.changed();
    this.#watchLapse(id);
  }

  stop(): void {
    for (const t of this.#lapseTimers.values()) clearTimeout(t);
  }

  /**
   * When the space's next delegation lapses, treat it as an authority change:
   * sessions re-check, this node stops offering a space it no longer holds,
   * and stock clients resting on it are re-checked.
   */
  #watchLapse(id: string): void {
    clearTimeout(this.#lapseTimers.get(id));
    this.#lapseTimers.delete(id);
    const space = this.#ctx.spaces.get(id);
    if (!space || this.#ctx.stopped()) return;
    const nowSec = Math.floor(this.#ctx.now() / 1000);
    let next: number | undefined;
    for (const d of space.authority.delegations) {
      if (d.exp !== null && d.exp >= nowSec && (next === undefined || d.exp < next)) next = d.exp;
    }
    // Valid through its `exp` second: changed just after it.
    if (next !== undefined) this.#wakeAt(id, (next + 1) * 1000);
  }

  /** Call `changed(id)` once the node's clock reads `at` (Unix ms) or later, however early timers fire. */
  #wakeAt(id: string, at: number): void {
    const inMs = Math.min(at - this.#ctx.now(), MAX_TIMER_MS);
    this.#lapseTimers.set(
      id,
      setTimeout(() => this.#ctx.now() < at ? this.#wakeAt(id, at) : this.changed(id), Math.max(inMs, 0)),
    );
  }
}
