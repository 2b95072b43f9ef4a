/**
 * Which notifications each paired person opted into (`/notify on|off
 * <kind>`), durably, by Nostr key: a failed run, a patch waiting for review,
 * an agent waiting for approval, and since when (what happened before a
 * person opted in is not news to them). Saved atomically (write, fsync,
 * rename) before the bridge answers; off for everyone until they say
 * otherwise.
 */
import { readStateFile } from "./state-file.ts";
import { writeFileAtomic } from "../../peer/storage/atomic-file.ts";

export const NOTIFY_KINDS = ["runs", "patches", "approvals"] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

/** What each kind is about, as the person reads it. */
export const NOTIFY_ABOUT: Record<NotifyKind, string> = {
  runs: "a task or run that failed",
  patches: "a patch (or a new revision) waiting for review",
  approvals: "an agent waiting for your approval",
};

interface PrefsFile {
  version: 1;
  on: Record<string, NotifyKind[]>;
  /** Unix ms each person with something on opted in (absent in files written before it was kept). */
  since?: Record<string, number>;
}

const MAX_FILE = 4 * 1024 * 1024;

export class NotifyPrefs {
  readonly #path: string;
  readonly #file: PrefsFile;

  private constructor(path: string, file: PrefsFile) {
    this.#path = path;
    this.#file = file;
  }

  /** The settings in `path`; a person opted in before `since` was kept counts from `now`. */
  static async open(path: string, now = Date.now()): Promise<NotifyPrefs> {
    const file = await readStateFile<PrefsFile>(path, {
      maxBytes: MAX_FILE,
      what: "the Nostr bridge's notification settings",
      valid: (p): p is PrefsFile => {
        const f = p as PrefsFile;
        return f?.version === 1 && typeof f.on === "object" && f.on !== null &&
          Object.values(f.on).every((k) => Array.isArray(k) && k.every((x) => NOTIFY_KINDS.includes(x))) &&
          (f.since === undefined ||
            (typeof f.since === "object" && f.since !== null &&
              Object.values(f.since).every((t) => Number.isSafeInteger(t) && t >= 0)));
      },
      startOver: "start over (everyone's notifications off)",
    }) ?? { version: 1, on: {} };
    const since = file.since ??= {};
    const unstamped = Object.keys(file.on).filter((k) => !Object.hasOwn(since, k));
    for (const k of unstamped) since[k] = now;
    if (unstamped.length > 0) await writeFileAtomic(path, JSON.stringify(file));
    return new NotifyPrefs(path, file);
  }

  /** Everyone with something on. */
  people(): string[] {
    return Object.keys(this.#file.on);
  }

  /** When `pubkey` opted in (Unix ms), if they have anything on. */
  since(pubkey: string): number | undefined {
    return Object.hasOwn(this.#file.on, pubkey) ? this.#file.since?.[pubkey] : undefined;
  }

  /** The kinds `pubkey` opted into. */
  of(pubkey: string): NotifyKind[] {
    return Object.hasOwn(this.#file.on, pubkey) ? [...this.#file.on[pubkey]] : [];
  }

  wants(pubkey: string, kind: NotifyKind): boolean {
    return this.of(pubkey).includes(kind);
  }

  /** Turn `kinds` on or off for `pubkey`, durably; resolves with what it has on now. */
  async set(pubkey: string, kinds: readonly NotifyKind[], on: boolean, at = Date.now()): Promise<NotifyKind[]> {
    const now = new Set(this.of(pubkey));
    for (const k of kinds) on ? now.add(k) : now.delete(k);
    const list = NOTIFY_KINDS.filter((k) => now.has(k));
    const since = this.#file.since ??= {};
    if (list.length === 0) {
      delete this.#file.on[pubkey];
      delete since[pubkey];
    } else {
      this.#file.on[pubkey] = list;
      since[pubkey] ??= at;
    }
    await writeFileAtomic(this.#path, JSON.stringify(this.#file));
    return list;
  }
}
