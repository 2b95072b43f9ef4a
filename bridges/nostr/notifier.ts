/**
 * Notifications by DM: watches the bridge's spaces and tells each paired
 * person who opted in (notify-prefs.ts), in the spaces they delegated to
 * the bridge in, when a task (a run is one) fails, when a patch or a new
 * revision of it waits for review (not their own), and when an agent waits
 * for approval (with the plan, so they can answer "approve <id>"). Each
 * thing is told once; what was already so when the bridge started is not
 * told (a restart does not repeat, nor catch up on, what happened before).
 */
import type { BridgeContext, BridgeEvent, BridgeSpace } from "#protocol/bridge";
import { latestRevision } from "#protocol/patch";
import type { NotifyKind, NotifyPrefs } from "./notify-prefs.ts";
import type { PairingBook } from "./pairing-book.ts";

/** Things remembered as told; past this the oldest are forgotten. */
const MAX_TOLD = 20_000;
/** How much of a plan a notification quotes. */
const PLAN_CHARS = 1_500;

interface Notice {
  kind: NotifyKind;
  /** Once per key. */
  key: string;
  text: string;
  /** Who is not told (the patch's author). */
  except?: string;
}

function noticesOf(space: BridgeSpace, e: BridgeEvent): Notice[] {
  if (e.type === "tasks") {
    return e.tasks.flatMap((id) => {
      const t = space.task(id);
      return t?.status === "failed"
        ? [{
          kind: "runs" as const,
          key: `failed:${t.id}`,
          text: `Task ${t.id.slice(0, 6)} failed in ${space.name}: ${t.title}`,
        }]
        : [];
    });
  }
  if (e.type !== "objects") return [];
  const ids = new Set(e.objects);
  if (e.family === "patch") {
    return space.patches().filter((p) => ids.has(p.id) && p.status === "open").map((p) => {
      const n = p.revisions.length;
      return {
        kind: "patches" as const,
        key: `patch:${latestRevision(p).id}`,
        except: p.author,
        text: `Patch ${p.id} (${p.repo}${n > 1 ? `, revision ${n}` : ""}) waits for review in ${space.name}: ` +
          `${p.title}\nReply "approve patch ${p.id.slice(0, 8)}" or "deny patch ${p.id.slice(0, 8)}: why".`,
      };
    });
  }
  if (e.family === "approval") {
    return space.approvals().filter((r) => ids.has(r.id) && r.status === "pending").map((r) => {
      const agent = space.members().find((m) => m.did === r.author)?.name ?? r.author;
      const plan = r.plan.length > PLAN_CHARS
        ? `${r.plan.slice(0, PLAN_CHARS)}…\n(the plan goes on: read it all with weft agent approvals)`
        : r.plan;
      return {
        kind: "approvals" as const,
        key: `request:${r.id}`,
        text: `Agent ${agent} waits for your approval in ${space.name} (${r.kind}, request ${r.id}):\n${plan}\n` +
          `Reply "approve ${r.id.slice(0, 8)}" or "deny ${r.id.slice(0, 8)}: why".`,
      };
    });
  }
  return [];
}

export class Notifier {
  readonly #context: BridgeContext;
  readonly #prefs: NotifyPrefs;
  readonly #book: PairingBook;
  readonly #send: (pubkey: string, text: string) => Promise<void>;
  readonly #told = new Set<string>();

  constructor(
    context: BridgeContext,
    prefs: NotifyPrefs,
    book: PairingBook,
    send: (pubkey: string, text: string) => Promise<void>,
  ) {
    this.#context = context;
    this.#prefs = prefs;
    this.#book = book;
    this.#send = send;
    for (const space of context.spaces()) this.#remember(space);
  }

  /** What is already so in `space` (a space newly open to the bridge too) is not news. */
  #remember(space: BridgeSpace): void {
    const all = (family: string, objects: string[]) =>
      noticesOf(space, { type: "objects", family, objects, space: space.id });
    const failed = space.tasks({ status: ["failed"] }).map((t) => t.id);
    for (
      const n of [
        ...noticesOf(space, { type: "tasks", tasks: failed, space: space.id }),
        ...all("patch", space.patches().map((p) => p.id)),
        ...all("approval", space.approvals().map((r) => r.id)),
      ]
    ) this.#mark(n.key);
  }

  #mark(key: string): boolean {
    if (this.#told.has(key)) return false;
    this.#told.add(key);
    if (this.#told.size > MAX_TOLD) this.#told.delete(this.#told.values().next().value!);
    return true;
  }

  /** Handle one event of the bridge's spaces: DM each opted-in person what is new. */
  async handle(e: BridgeEvent): Promise<void> {
    const space = this.#context.space(e.space);
    if (!space) return;
    if (e.type === "access") {
      if (e.holds) this.#remember(space);
      return;
    }
    const notices = noticesOf(space, e).filter((n) => this.#mark(n.key));
    if (notices.length === 0) return;
    const people = new Set(space.grants().map((g) => g.iss));
    for (const [pubkey, paired] of this.#book.all()) {
      if (!people.has(paired.did)) continue;
      for (const n of notices) {
        if (n.except === paired.did || !this.#prefs.wants(pubkey, n.kind)) continue;
        await this.#send(pubkey, n.text);
      }
    }
  }
}
