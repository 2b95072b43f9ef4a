/**
 * Notifications by DM: watches the bridge's spaces and tells each paired
 * person who opted in (notify-prefs.ts), in the spaces they delegated to
 * the bridge in, when a task (a run is one) fails, when a patch or a new
 * revision of it waits for review (not their own), and when an agent waits
 * for approval (with the plan, so they can answer "approve <id>").
 *
 * Each thing is told to each person once, durably (notify-ledger.ts: a
 * thing counts as told once a relay took the DM). What happened before a
 * person opted in is not news to them. At start the bridge catches up: what
 * happened while it was down (since the person opted in, within the week
 * it looks back) and is still so — a task failed, a patch still open, a
 * request still pending — and was not told, is sent in one DM. A person is
 * sent at most `burst` notifications at once and `perHour` after; past that
 * they are held and coalesced into one DM when the rate allows. Held or
 * unsent things are not recorded, so a crash loses none: the next start
 * catches up on them.
 */
import type { BridgeContext, BridgeEvent, BridgeSpace } from "#protocol/bridge";
import type { Task } from "#protocol/tasks";
import { latestRevision } from "#protocol/patch";
import type { NotifyKind, NotifyPrefs } from "./notify-prefs.ts";
import type { PairingBook } from "./pairing-book.ts";
import { NOTIFY_LOOKBACK_MS, type NotifyLedger } from "./notify-ledger.ts";
import { SenderRateLimit } from "./rate-limit.ts";

/** How much of a plan a notification quotes. */
const PLAN_CHARS = 1_500;
/** Things a coalesced DM lists; the rest are counted. */
const LISTED = 20;
/** Things held per person at most (the oldest go first; the next start catches up on them). */
const MAX_HELD = 500;

interface Notice {
  kind: NotifyKind;
  /** Once per key. */
  key: string;
  /** When the thing happened (Unix ms, the author's time). */
  at: number;
  text: string;
  /** Who is not told (the patch's author). */
  except?: string;
}

/** When a task failed: its last result or close. */
function failedAt(t: Task): number {
  const last = t.history.findLast((h) => h.kind === "result" || h.kind === "close");
  return (last?.at ?? t.updatedAt)[0];
}

function noticesOf(space: BridgeSpace, e: BridgeEvent): Notice[] {
  if (e.type === "tasks") {
    return e.tasks.flatMap((id) => {
      const t = space.task(id);
      return t?.status === "failed"
        ? [{
          kind: "runs" as const,
          key: `failed:${t.id}`,
          at: failedAt(t),
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
      const revision = latestRevision(p);
      return {
        kind: "patches" as const,
        key: `patch:${revision.id}`,
        at: revision.at[0],
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
        at: r.at[0],
        text: `Agent ${agent} waits for your approval in ${space.name} (${r.kind}, request ${r.id}):\n${plan}\n` +
          `Reply "approve ${r.id.slice(0, 8)}" or "deny ${r.id.slice(0, 8)}: why".`,
      };
    });
  }
  return [];
}

/** Everything in `space` that is so now and would be a notice. */
function standingNotices(space: BridgeSpace): Notice[] {
  const all = (family: string, objects: string[]) =>
    noticesOf(space, { type: "objects", family, objects, space: space.id });
  const failed = space.tasks({ status: ["failed"] }).map((t) => t.id);
  return [
    ...noticesOf(space, { type: "tasks", tasks: failed, space: space.id }),
    ...all("patch", space.patches().map((p) => p.id)),
    ...all("approval", space.approvals().map((r) => r.id)),
  ];
}

/** One DM telling several things: their first lines, the first LISTED of them. */
function coalesced(heading: string, notices: readonly Notice[]): string {
  const lines = notices.slice(0, LISTED).map((n) => `- ${n.text.split("\n")[0]}`);
  const more = notices.length > LISTED ? [`…and ${notices.length - LISTED} more.`] : [];
  return [heading, ...lines, ...more, 'Reply "tasks", or "approve <id>" / "deny <id>: why".'].join("\n");
}

export interface NotifierOptions {
  context: BridgeContext;
  prefs: NotifyPrefs;
  book: PairingBook;
  ledger: NotifyLedger;
  /** DM `text` to `pubkey`; false when no relay took it. */
  send: (pubkey: string, text: string) => Promise<boolean>;
  /** Notifications per person at once, and per hour after. */
  burst: number;
  perHour: number;
  log: (message: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

export class Notifier {
  readonly #o: NotifierOptions;
  readonly #now: () => number;
  readonly #rate: SenderRateLimit;
  /** Per person: things held back by the rate (or whose DM no relay took), to send coalesced. */
  readonly #held = new Map<string, Notice[]>();
  /** Per person: keys being sent now. */
  readonly #sending = new Map<string, Set<string>>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(options: NotifierOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#rate = new SenderRateLimit({ burst: options.burst, perMinute: options.perHour / 60, now: this.#now });
  }

  /** The people to tell in `space`, with their Nostr keys: paired, delegated there, opted into something. */
  #audience(space: BridgeSpace): Array<{ pubkey: string; did: string }> {
    const people = new Set(space.grants().map((g) => g.iss));
    return [...this.#o.book.all()]
      .filter(([pubkey, paired]) => people.has(paired.did) && this.#o.prefs.since(pubkey) !== undefined)
      .map(([pubkey, paired]) => ({ pubkey, did: paired.did }));
  }

  /** Is `n` news to this person: wanted, not theirs, not from before they opted in, not told or being told? */
  #news(pubkey: string, did: string, n: Notice): boolean {
    return n.except !== did && this.#o.prefs.wants(pubkey, n.kind) &&
      n.at >= (this.#o.prefs.since(pubkey) ?? Infinity) &&
      !this.#o.ledger.told(pubkey, n.key) && !this.#sending.get(pubkey)?.has(n.key) &&
      !this.#held.get(pubkey)?.some((h) => h.key === n.key);
  }

  /** At start: tell each person, in one DM, what happened while the bridge was down and was not told. */
  async catchUp(): Promise<void> {
    const horizon = this.#now() - NOTIFY_LOOKBACK_MS;
    const missed = new Map<string, Notice[]>();
    for (const space of this.#o.context.spaces()) {
      const standing = standingNotices(space).filter((n) => n.at >= horizon);
      for (const { pubkey, did } of this.#audience(space)) {
        const mine = missed.get(pubkey) ?? [];
        for (const n of standing) if (this.#news(pubkey, did, n) && !mine.some((m) => m.key === n.key)) mine.push(n);
        missed.set(pubkey, mine);
      }
    }
    for (const [pubkey, notices] of missed) {
      if (notices.length === 0) continue;
      notices.sort((a, b) => a.at - b.at);
      await this.#tell(pubkey, notices, `While I was away (${notices.length}):`);
    }
  }

  /** Handle one event of the bridge's spaces: DM each opted-in person what is new. */
  async handle(e: BridgeEvent): Promise<void> {
    const space = this.#o.context.space(e.space);
    if (!space || e.type === "access") return;
    const notices = noticesOf(space, e);
    if (notices.length === 0) return;
    for (const { pubkey, did } of this.#audience(space)) {
      for (const n of notices) if (this.#news(pubkey, did, n)) await this.#tell(pubkey, [n]);
    }
  }

  /**
   * DM `notices` to `pubkey` — one as it is, several coalesced under
   * `heading` — if the person's rate allows; else hold them. Recorded as
   * told once a relay took the DM; held again when none did.
   */
  async #tell(pubkey: string, notices: Notice[], heading?: string): Promise<void> {
    if (this.#held.has(pubkey) || !this.#rate.take(pubkey)) return this.#hold(pubkey, notices);
    const keys = notices.map((n) => n.key);
    const sending = this.#sending.get(pubkey) ?? new Set<string>();
    this.#sending.set(pubkey, sending);
    for (const k of keys) sending.add(k);
    try {
      const text = notices.length === 1 && heading === undefined
        ? notices[0].text
        : coalesced(heading ?? `${notices.length} notifications:`, notices);
      if (await this.#o.send(pubkey, text)) await this.#o.ledger.record(pubkey, keys);
      else {
        this.#o.log("a Nostr notification reached no relay; holding it", { pubkey, things: keys.length });
        this.#hold(pubkey, notices);
      }
    } finally {
      for (const k of keys) sending.delete(k);
    }
  }

  /** Hold `notices` for `pubkey`, to be sent coalesced when the rate allows (one token's wait). */
  #hold(pubkey: string, notices: Notice[]): void {
    const held = this.#held.get(pubkey) ?? [];
    held.push(...notices.filter((n) => !held.some((h) => h.key === n.key)));
    held.splice(0, Math.max(0, held.length - MAX_HELD));
    this.#held.set(pubkey, held);
    if (this.#timers.has(pubkey) || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(pubkey);
      const waiting = this.#held.get(pubkey) ?? [];
      this.#held.delete(pubkey);
      if (waiting.length === 0) return;
      const heading = `${waiting.length} notification${waiting.length > 1 ? "s" : ""} held back ` +
        `(more than ${this.#o.perHour} an hour):`;
      void this.#tell(pubkey, waiting, heading).catch((e) =>
        this.#o.log("held Nostr notifications could not be sent", { pubkey, error: (e as Error).message })
      );
    }, Math.ceil(3_600_000 / this.#o.perHour));
    this.#timers.set(pubkey, timer);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
