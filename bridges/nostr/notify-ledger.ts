/**
 * What each person has been told by notification, durably (`notified.json`):
 * so a restart neither repeats a notification nor skips what happened while
 * the bridge was down (notifier.ts tells what is not in here). A thing is
 * recorded only once a relay took the DM that told it. Entries are kept for
 * the week the notifier looks back over (from when they were told), and at
 * most MAX_PER_PERSON per person.
 */
import { readStateFile } from "./state-file.ts";
import { writeFileAtomic } from "../../peer/storage/atomic-file.ts";

/** How far back the notifier catches up, and how long a told thing is remembered. */
export const NOTIFY_LOOKBACK_MS = 7 * 24 * 3600 * 1000;
const MAX_PER_PERSON = 5_000;
const MAX_PEOPLE = 10_000;
const MAX_FILE = 64 * 1024 * 1024;

interface LedgerFile {
  version: 1;
  /** By Nostr key: each thing told (its notice key) with when it was told (Unix ms). */
  told: Record<string, Record<string, number>>;
}

export class NotifyLedger {
  readonly #path: string;
  readonly #file: LedgerFile;
  readonly #now: () => number;

  private constructor(path: string, file: LedgerFile, now: () => number) {
    this.#path = path;
    this.#file = file;
    this.#now = now;
  }

  static async open(path: string, now: () => number = Date.now): Promise<NotifyLedger> {
    const file = await readStateFile<LedgerFile>(path, {
      maxBytes: MAX_FILE,
      what: "the Nostr bridge's record of notifications sent",
      valid: (p): p is LedgerFile => {
        const f = p as LedgerFile;
        return f?.version === 1 && typeof f.told === "object" && f.told !== null &&
          Object.values(f.told).every((t) =>
            typeof t === "object" && t !== null && Object.values(t).every((at) => Number.isSafeInteger(at))
          );
      },
      startOver: "start over (notifications of the past week may be sent again)",
    }) ?? { version: 1, told: {} };
    return new NotifyLedger(path, file, now);
  }

  told(pubkey: string, key: string): boolean {
    return Object.hasOwn(this.#file.told, pubkey) && Object.hasOwn(this.#file.told[pubkey], key);
  }

  /** Record the things `keys` name as told to `pubkey` now, durably, forgetting what was told before the look-back. */
  async record(pubkey: string, keys: readonly string[]): Promise<void> {
    const told = this.#file.told;
    if (!Object.hasOwn(told, pubkey)) {
      if (Object.keys(told).length >= MAX_PEOPLE) delete told[Object.keys(told)[0]];
      told[pubkey] = {};
    }
    const mine = told[pubkey];
    const now = this.#now();
    for (const key of keys) mine[key] = now;
    const horizon = now - NOTIFY_LOOKBACK_MS;
    const kept = Object.entries(mine).filter(([, at]) => at >= horizon).sort((a, b) => b[1] - a[1]);
    told[pubkey] = Object.fromEntries(kept.slice(0, MAX_PER_PERSON));
    await writeFileAtomic(this.#path, JSON.stringify(this.#file));
  }
}
