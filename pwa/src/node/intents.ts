/**
 * What the user does while the app stands on the saved view (snapshot.ts),
 * before the node has caught up: create a task, claim one, comment. None of
 * it is signed then. Each action is checked for its input, kept durably
 * (signed with the device key, so nothing written into IndexedDB by anyone
 * else is ever signed in its name) and shown as waiting; once the node has
 * read and verified everything, each is made through the node's own write
 * path (`Space.createTask`, `actions.claim`, `Space.act`) against the full
 * verified state — exactly the judgement it would get if the user had
 * waited — and accepted or refused with the node's reason. An action the
 * full state refuses is never accepted against the saved view's older one.
 * A create carries its intent's id as idempotency key, so running it twice
 * (a tab closed mid-way) makes one task.
 */
import { WeftError } from "#protocol";
import type { Signer, Verifier } from "#protocol/identity";
import { list, object, oneOf, optional, required, str } from "#protocol/schema";
import { newTaskId, type Space } from "#protocol/space";
import { actions } from "../model/actions.ts";
import { shortId } from "../model/task-ref.ts";
import type { WeftDb } from "./db.ts";
import { getSigned, putSigned } from "./signed-record.ts";

const KEY = "intents";
const PURPOSE = "weft/intents/1";
/** Actions kept waiting at once; more is refused with why. */
export const MAX_INTENTS = 100;
const MAX_JSON = 4 << 20;

const intent = object({
  id: required(str(16, 16, /^[a-z2-7]+$/)),
  space: required(str(1, 200)),
  kind: required(oneOf("create", "claim", "comment")),
  /** The task's title (create: the new one's; else as the saved view showed it, to name it). */
  title: required(str(1, 200)),
  task: optional(str(1, 64)),
  labels: optional(list(str(1, 200), 64)),
  body: optional(str(1, 16_000)),
});
const stored = list(intent, MAX_INTENTS);

export type Intent = ReturnType<typeof intent>;

/** What became of an action once the verified state judged it. */
export interface Outcome {
  intent: Intent;
  /** The node's reason, when it refused it. */
  refused?: string;
}

export function describe(i: Intent): string {
  if (i.kind === "create") return `Create “${i.title}”`;
  if (i.kind === "claim") return `Claim “${i.title}”`;
  return `Comment on “${i.title}”`;
}

export class IntentQueue {
  readonly #db: WeftDb;
  readonly #signer: Signer;
  #items: Intent[];
  readonly #listeners = new Set<() => void>();

  private constructor(db: WeftDb, signer: Signer, items: Intent[]) {
    this.#db = db;
    this.#signer = signer;
    this.#items = items;
  }

  /** The queue, with what a visit that ended before its node caught up left waiting (if its record checks out). */
  static async open(
    db: WeftDb,
    signer: Signer,
    verifier: Verifier,
  ): Promise<{ queue: IntentQueue; refused?: string }> {
    const read = await getSigned(db, verifier, KEY, PURPOSE, MAX_JSON);
    if (read === undefined) return { queue: new IntentQueue(db, signer, []) };
    if ("refused" in read) return { queue: new IntentQueue(db, signer, []), refused: read.refused };
    try {
      return { queue: new IntentQueue(db, signer, stored(read.json, "intents")) };
    } catch (e) {
      await db.delete("settings", KEY);
      return { queue: new IntentQueue(db, signer, []), refused: `it is malformed (${(e as Error).message})` };
    }
  }

  get items(): readonly Intent[] {
    return this.#items;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Check `i`'s input and keep it; durable when this resolves. Bad input is refused and changes nothing. */
  async add(i: Omit<Intent, "id">): Promise<Intent> {
    if (this.#items.length >= MAX_INTENTS) {
      throw new WeftError(
        "Unavailable",
        "intents/full",
        `${MAX_INTENTS} actions are already waiting for the check to finish: wait a moment and try again`,
      );
    }
    const checked = intent({ ...i, id: newTaskId() }, "action");
    await this.#keep([...this.#items, checked]);
    return checked;
  }

  /**
   * Make every waiting action through the node, against its verified state,
   * oldest first; each leaves the durable record once made or refused.
   */
  async runAll(spaceOf: (id: string) => Space | undefined): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const i of [...this.#items]) {
      let refused: string | undefined;
      try {
        await make(i, spaceOf(i.space));
      } catch (e) {
        refused = (e as Error).message;
      }
      outcomes.push({ intent: i, ...(refused === undefined ? {} : { refused }) });
      await this.#keep(this.#items.filter((x) => x !== i));
    }
    return outcomes;
  }

  async #keep(items: Intent[]): Promise<void> {
    if (items.length === 0) await this.#db.delete("settings", KEY);
    else await putSigned(this.#db, this.#signer, KEY, PURPOSE, items);
    this.#items = items;
    for (const l of this.#listeners) l();
  }
}

async function make(i: Intent, space: Space | undefined): Promise<void> {
  if (!space) throw new WeftError("NotFound", "not-found", `this browser is not in space ${i.space}`);
  if (i.kind === "create") {
    await space.createTask({ title: i.title, ...(i.labels?.length ? { labels: i.labels } : {}), idempotencyKey: i.id });
    return;
  }
  const task = space.task(i.task ?? "");
  if (!task || task.id !== i.task) throw new WeftError("NotFound", "not-found", `no task ${shortId(i.task ?? "")}`);
  if (i.kind === "claim") await actions.claim(space, task);
  else await actions.comment(space, task, i.body ?? "");
}
