/**
 * What people say on the task while the agent works on it: comments added
 * after the pass built its context pack (which holds the earlier ones), not
 * the agent's own, read between turns into the model's next message — so a
 * person's "also check sub.sh" (on the dashboard, the CLI, or by Nostr DM
 * through a bridge they paired: counted for them) reaches the loop mid-task.
 */
import type { Space } from "#protocol/space";

/** The most characters of new comments one turn takes in. */
const MAX_CHARS = 8_000;

export class NewComments {
  readonly #space: Space;
  readonly #task: string;
  readonly #self: string;
  readonly #seen: Set<string>;

  /** Comments on `task` from now on, by anyone but `self` (the agent). */
  constructor(space: Space, task: string, self: string) {
    this.#space = space;
    this.#task = task;
    this.#self = self;
    this.#seen = new Set(space.task(task)?.comments.map((c) => c.id) ?? []);
  }

  /** The comments since the last call, as text for the model; undefined when there are none. */
  take(): string | undefined {
    const fresh = (this.#space.task(this.#task)?.comments ?? []).filter((c) => !this.#seen.has(c.id));
    for (const c of fresh) this.#seen.add(c.id);
    const said = fresh.filter((c) => c.author !== this.#self && c.signer !== this.#self);
    if (said.length === 0) return undefined;
    const text = said.map((c) => `Comment by ${c.author} on the task, while you work:\n${c.body}`).join("\n\n");
    return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text;
  }
}
