/**
 * The Nostr bridge: people DM the mesh over NIP-17 from any Nostr client.
 * It listens with its own Nostr key (key.ts) bound to its DID (binding.ts),
 * publishes its profile (kind 0) and inbox relays (kind 10050), and for each
 * gift wrap on its inbox relays: unwraps it trusting nothing (unwrap.ts),
 * handles each rumor id once, durably (seen-log.ts), rate-limits the sender,
 * and only then reads it. Strangers may ask to pair and otherwise get one
 * answer, then silence; a person pairs by confirming the code with their own
 * key, as a delegation to the bridge carrying the code's proof
 * (pairing-book.ts). A paired person's commands run under that person's
 * delegation (actions.ts); their free text goes to the model within the
 * day's DM budget (dm-chat.ts, model-ledger.ts); what they opted into is
 * DMed to them as it happens, and what happened while the bridge was down
 * once it is back, at a bounded rate (notifier.ts). Replies go back gift-wrapped,
 * to a paired person's own inbox relays (person-relays.ts). Its inbox
 * subscriptions are kept alive by inbox.ts.
 */
import { join } from "node:path";
import { AbstractSimplePool } from "nostr-tools/abstract-pool";
import { finalizeEvent, type NostrEvent, verifyEvent } from "nostr-tools/pure";
import { wrapEvent } from "nostr-tools/nip17";
import type { Bridge, BridgeContext, BridgeKind } from "#protocol/bridge";
import { PAIRING_META } from "#protocol/bridge";
import { messageOf, WeftError } from "#protocol";
import { Commands } from "#protocol/ucan";
import { bindingTag, profileTemplate } from "./binding.ts";
import { carryOut } from "./actions.ts";
import { parseCommand } from "./commands.ts";
import { type NostrConfig, readNostrConfig } from "./config.ts";
import { type DropReason, NostrDropped, NostrUnsent } from "./errors.ts";
import { loadOrCreateNostrKey, type NostrKey } from "./key.ts";
import { Inbox } from "./inbox.ts";
import { fitDmText } from "./nip44.ts";
import { PairingBook } from "./pairing-book.ts";
import { PersonRelays } from "./person-relays.ts";
import { SenderRateLimit } from "./rate-limit.ts";
import { inWindow, SeenLog } from "./seen-log.ts";
import { ModelLedger } from "./model-ledger.ts";
import { NotifyPrefs } from "./notify-prefs.ts";
import { Notifier } from "./notifier.ts";
import { NotifyLedger } from "./notify-ledger.ts";
import { type Rumor, unwrapDm } from "./unwrap.ts";

/** Gift wraps waiting to be handled; past this, new ones are dropped (and fetched again on restart). */
const MAX_QUEUED = 1_000;
/** Gift wraps handled in this run, by id, so a re-fetch (a relay back, a second relay) is not unwrapped again. */
const MAX_WRAPS_KEPT = 10_000;
/** Waits before handling again a DM whose reply no relay took; past the last, it waits for a restart's re-fetch. */
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];
/** How often the profile and inbox relay list are published again (relays drop what they keep). */
const IDENTITY_EVERY_MS = 6 * 3600 * 1000;
/** Waits before publishing them again when no relay took them; the last repeats. */
const IDENTITY_RETRY_MS = [5_000, 30_000, 120_000, 600_000];
/** DMs waiting for such a retry at most. */
const MAX_RETRYING = 1_000;

const GREETING = "Hello! I only take messages from people paired with this Weft mesh. " +
  'To pair, reply "pair" and confirm the code on your own peer. I will not answer again until then.';

/** What the bridge has counted, for logs and tests. */
export interface NostrCounters {
  handled: number;
  replayed: number;
  rateLimited: number;
  /** Replies no relay took (the DM is handled again later). */
  unsent: number;
  queueFull: number;
  dropped: Partial<Record<DropReason, number>>;
}

export class NostrBridge implements Bridge {
  readonly #config: NostrConfig;
  #context?: BridgeContext;
  #key?: NostrKey;
  #pool?: AbstractSimplePool;
  #seen?: SeenLog;
  #book?: PairingBook;
  #ledger?: ModelLedger;
  #prefs?: NotifyPrefs;
  #notices: Promise<void> = Promise.resolve();
  #notifier?: Notifier;
  #rate: SenderRateLimit;
  #inbox?: Inbox;
  #people?: PersonRelays;
  readonly #wraps = new Set<string>();
  #unsubscribe?: () => void;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;
  /** Pairing delegations already looked at, by CID. */
  readonly #checked = new Set<string>();
  readonly counters: NostrCounters = {
    handled: 0,
    replayed: 0,
    rateLimited: 0,
    unsent: 0,
    queueFull: 0,
    dropped: {},
  };
  /** DMs whose reply no relay took, by wrap id: how many tries so far (a retry does not take a rate token again). */
  readonly #retries = new Map<string, number>();
  readonly #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  #identityTimer?: ReturnType<typeof setTimeout>;

  constructor(config: NostrConfig) {
    this.#config = config;
    this.#rate = new SenderRateLimit({ burst: config.rateBurst, perMinute: config.ratePerMinute });
  }

  /** The bridge's Nostr public key (hex), once started. */
  get pubkey(): string | undefined {
    return this.#key?.pubkey;
  }

  async start(context: BridgeContext): Promise<void> {
    if (!context.dir) {
      throw new WeftError("NostrNoDir", "internal", "the Nostr bridge needs a private directory for its key");
    }
    this.#context = context;
    const { key, created } = await loadOrCreateNostrKey(context.dir);
    this.#key = key;
    this.#seen = await SeenLog.open(join(context.dir, "seen-rumors.log"));
    this.#book = await PairingBook.open(join(context.dir, "pairings.json"));
    if (this.#config.modelCallsPerDay > 0) {
      this.#ledger = await ModelLedger.open(join(context.dir, "dm-model-spend.json"), {
        callsPerDay: this.#config.modelCallsPerDay,
        microUsdPerDay: this.#config.modelMicroUsdPerDay,
      });
    }
    // The inbox reconnects itself (inbox.ts); a slow machine gets 10 s, not 3, to reach a relay.
    this.#pool = new AbstractSimplePool({ verifyEvent, enableReconnect: false, maxWaitForConnection: 10_000 });
    this.#people = new PersonRelays(this.#pool, this.#config.relays);
    context.log.info(created ? "nostr bridge made its key" : "nostr bridge listening", {
      bridge: context.name,
      pubkey: key.pubkey,
      relays: this.#config.relays,
    });
    this.#prefs = await NotifyPrefs.open(join(context.dir, "notify.json"));
    await this.#keepIdentity(0);
    const notifier = this.#notifier = new Notifier({
      context,
      prefs: this.#prefs,
      book: this.#book,
      ledger: await NotifyLedger.open(join(context.dir, "notified.json")),
      send: (pubkey, text) => this.#send(pubkey, text),
      burst: this.#config.notifyBurst,
      perHour: this.#config.notifyPerHour,
      log: (message, fields) => context.log.warn(message, { bridge: context.name, ...fields }),
    });
    const notify = (work: () => Promise<void>) => {
      this.#notices = this.#notices.then(() => this.#closed ? undefined : work()).catch((err) =>
        context.log.error("a Nostr notification could not be sent", { bridge: context.name, error: messageOf(err) })
      );
    };
    this.#unsubscribe = context.subscribe((e) => {
      if (e.type === "members" || e.type === "access") void this.#checkPairings();
      notify(() => notifier.handle(e));
    });
    notify(() => notifier.catchUp());
    await this.#checkPairings();
    this.#inbox = new Inbox({
      pool: this.#pool,
      relays: this.#config.relays,
      pubkey: key.pubkey,
      onWrap: (e) => this.#enqueue(e),
      log: {
        info: (m, f) => context.log.info(m, { bridge: context.name, ...f }),
        warn: (m, f) => context.log.warn(m, { bridge: context.name, ...f }),
      },
    });
    this.#inbox.open();
  }

  /**
   * Publish the identity now — at every start, so a changed name or relay
   * list goes out — and again every IDENTITY_EVERY_MS, or soon (with backoff)
   * when no relay took it.
   */
  async #keepIdentity(failures: number): Promise<void> {
    if (this.#closed) return;
    const ok = await this.#publishIdentity();
    if (this.#closed) return;
    const wait = ok ? IDENTITY_EVERY_MS : IDENTITY_RETRY_MS[Math.min(failures, IDENTITY_RETRY_MS.length - 1)];
    this.#identityTimer = setTimeout(() => void this.#keepIdentity(ok ? 0 : failures + 1), wait);
    this.#identityTimer.unref?.();
  }

  /** Profile (kind 0, carrying the DID binding) and inbox relays (kind 10050); false when no relay took one of them. */
  async #publishIdentity(): Promise<boolean> {
    const context = this.#context as BridgeContext;
    const key = this.#key as NostrKey;
    const now = Math.floor(Date.now() / 1000);
    const tag = await bindingTag(context.did, key.pubkey, context.sign);
    const about = `Weft mesh bridge ${context.did}. DM "help" once paired.`;
    const events = [
      finalizeEvent(profileTemplate(this.#config.name, about, tag, now), key.secret),
      finalizeEvent(
        { kind: 10050, created_at: now, tags: this.#config.relays.map((r) => ["relay", r]), content: "" },
        key.secret,
      ),
    ];
    let ok = true;
    for (const event of events) ok = (await this.#publish(event, this.#config.relays)) && ok;
    return ok;
  }

  /** Publish `event` on `relays`; false (and logged) when none took it. */
  async #publish(event: NostrEvent, relays: string[]): Promise<boolean> {
    const results = await Promise.allSettled((this.#pool as AbstractSimplePool).publish(relays, event));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length < results.length) return true;
    this.#context?.log.warn("no relay took the bridge's event", {
      bridge: this.#context.name,
      kind: event.kind,
      relays,
      errors: failed.map((r) => messageOf((r as PromiseRejectedResult).reason)),
    });
    return false;
  }

  /**
   * Where to DM `pubkey`: a paired person's own inbox relays (kind 10050), as
   * NIP-17 says, else the bridge's (where the DM was read), saying so. A
   * stranger always gets the bridge's: a list anyone can publish must not send
   * the bridge connecting anywhere.
   */
  async #relaysFor(pubkey: string): Promise<string[]> {
    const context = this.#context as BridgeContext;
    if (!(this.#book as PairingBook).paired(pubkey)) return this.#config.relays;
    const theirs = await (this.#people as PersonRelays).of(pubkey);
    if (theirs.length > 0) return theirs;
    context.log.info("no inbox relays (kind 10050) found for this person; replying on the bridge's relays", {
      bridge: context.name,
      pubkey,
    });
    return this.#config.relays;
  }

  #enqueue(wrap: NostrEvent): void {
    if (this.#closed || this.#wraps.has(wrap.id)) return;
    if (this.#queued >= MAX_QUEUED) {
      this.counters.queueFull++;
      return;
    }
    this.#queued++;
    this.#queue = this.#queue.then(() => this.#handle(wrap)).then(() => {
      this.#retries.delete(wrap.id);
    }, (e) => {
      this.#wraps.delete(wrap.id); // not recorded as seen either: read again when fetched again
      this.#context?.log.error("a Nostr DM could not be handled", { bridge: this.#context.name, error: messageOf(e) });
      if (e instanceof NostrUnsent) this.#retry(wrap);
    }).finally(() => this.#queued--);
  }

  /** Handle `wrap` again after a while: its reply reached no relay. */
  #retry(wrap: NostrEvent): void {
    const tries = this.#retries.get(wrap.id) ?? 0;
    if (this.#closed || tries >= RETRY_MS.length || (tries === 0 && this.#retries.size >= MAX_RETRYING)) {
      this.#retries.delete(wrap.id);
      return;
    }
    this.#retries.set(wrap.id, tries + 1);
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.#enqueue(wrap);
    }, RETRY_MS[tries]);
    this.#retryTimers.add(timer);
  }

  async #handle(wrap: NostrEvent): Promise<void> {
    if (this.#closed || this.#wraps.has(wrap.id)) return;
    const context = this.#context as BridgeContext;
    const key = this.#key as NostrKey;
    let rumor: Rumor;
    try {
      rumor = unwrapDm(wrap, key.secret, key.pubkey, this.#config.maxEventBytes);
      if (!inWindow(rumor.created_at, Date.now())) {
        throw new NostrDropped("stale", `the message is dated ${rumor.created_at}, outside the week the bridge keeps`);
      }
    } catch (e) {
      if (!(e instanceof NostrDropped)) throw e;
      this.counters.dropped[e.reason] = (this.counters.dropped[e.reason] ?? 0) + 1;
      context.log.warn("nostr gift wrap dropped", { bridge: context.name, reason: e.reason, wrap: wrap.id });
      return;
    }
    // Only now is the id the wrap's own (its signature checked): one forged with a real wrap's id cannot shadow it.
    this.#wraps.add(wrap.id);
    if (this.#wraps.size > MAX_WRAPS_KEPT) this.#wraps.delete(this.#wraps.values().next().value as string);
    const seen = this.#seen as SeenLog;
    if (seen.has(rumor.id)) {
      this.counters.replayed++;
      return;
    }
    if (!this.#retries.has(wrap.id) && !this.#rate.take(rumor.pubkey)) {
      this.counters.rateLimited++;
      context.log.warn("nostr sender over its rate", { bridge: context.name, sender: rumor.pubkey });
      await seen.add(rumor.id, rumor.created_at); // dropped on purpose: not to be read again after a restart
      return;
    }
    this.counters.handled++;
    const answer = await this.#answer(rumor);
    if (answer !== undefined && !(await this.#send(rumor.pubkey, answer, rumor.id))) {
      this.counters.unsent++;
      throw new NostrUnsent(rumor.pubkey, await this.#relaysFor(rumor.pubkey));
    }
    // Recorded only now (after a relay took the answer): a crash or a reply no relay took before this line reads
    // the message again instead of losing it.
    await seen.add(rumor.id, rumor.created_at);
  }

  /** The answer to a DM that passed every check, or undefined for none. */
  async #answer(rumor: Rumor): Promise<string | undefined> {
    const context = this.#context as BridgeContext;
    const book = this.#book as PairingBook;
    const command = parseCommand(rumor.content);
    const paired = book.paired(rumor.pubkey);
    if (!paired) {
      if (command.kind === "pair") {
        const code = await book.issue(rumor.pubkey, this.#config.pairTtlS * 1000);
        if (code === undefined) return undefined;
        return `Your pairing code is ${code}; it works once, for ${Math.round(this.#config.pairTtlS / 60)} minutes. ` +
          `Confirm it on your own Weft peer, in the space to use:\n` +
          `weft nostr pair ${code} --bridge ${context.did} --space <space>`;
      }
      return (await book.greet(rumor.pubkey)) ? GREETING : undefined;
    }
    const asker = { did: paired.did, space: paired.space, message: rumor.id, pubkey: rumor.pubkey };
    return await carryOut(context, asker, command, {
      approvalTtlMs: this.#config.approvalTtlS * 1000,
      prefs: this.#prefs as NotifyPrefs,
      ...(this.#ledger ? { ledger: this.#ledger } : {}),
    });
  }

  /** A NIP-17 DM to `pubkey` (in reply to the rumor `replyTo`), gift-wrapped, on their inbox relays; false if no relay took it. */
  async #send(pubkey: string, text: string, replyTo?: string): Promise<boolean> {
    const key = this.#key as NostrKey;
    const wrap = wrapEvent(
      key.secret,
      { publicKey: pubkey },
      fitDmText(text),
      undefined,
      replyTo ? { eventId: replyTo } : undefined,
    );
    const relays = await this.#relaysFor(pubkey);
    if (await this.#publish(wrap, relays)) return true;
    return relays !== this.#config.relays && await this.#publish(wrap, this.#config.relays);
  }

  /** A DM that answers no message (the pairing's confirmation): sent again with backoff until a relay takes it. */
  async #sendUntilTaken(pubkey: string, text: string, tries = 0): Promise<void> {
    if (this.#closed || await this.#send(pubkey, text)) return;
    this.counters.unsent++;
    if (tries >= RETRY_MS.length) {
      this.#context?.log.warn("a Nostr DM reached no relay; given up", { bridge: this.#context.name, pubkey });
      return;
    }
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      void this.#sendUntilTaken(pubkey, text, tries + 1);
    }, RETRY_MS[tries]);
    this.#retryTimers.add(timer);
  }

  /** Pair whoever confirmed a live code: a delegation to the bridge whose meta carries its proof. */
  async #checkPairings(): Promise<void> {
    const context = this.#context as BridgeContext;
    const book = this.#book as PairingBook;
    for (const space of context.spaces()) {
      for (const grant of space.grants()) {
        const proof = grant.meta[PAIRING_META];
        if (typeof proof !== "string" || this.#checked.has(grant.cid)) continue;
        this.#checked.add(grant.cid);
        const pubkey = await book.confirm(proof, grant.iss, space.id);
        if (pubkey === undefined) continue;
        context.log.info("nostr key paired", { bridge: context.name, pubkey, did: grant.iss, space: space.id });
        await this.#sendUntilTaken(pubkey, `Paired with ${grant.iss} in ${space.name}. Try "status?" or "help".`);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#identityTimer);
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    this.#inbox?.close();
    this.#unsubscribe?.();
    this.#notifier?.close();
    await this.#queue;
    await this.#notices;
    this.#pool?.destroy();
    await this.#seen?.close();
  }
}

export const nostrBridge: BridgeKind<NostrConfig> = {
  name: "nostr",
  summary: "people DM the mesh over NIP-17; paired people's commands run under their own delegation",
  commands: [Commands.taskCreate, Commands.taskComment, Commands.agent, Commands.patchReview],
  configure: readNostrConfig,
  create: (config) => new NostrBridge(config),
};
