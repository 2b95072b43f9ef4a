/**
 * The rumor ids the bridge has handled, durably: NIP-59 randomizes wrap and
 * seal timestamps up to two days back, so a replayed gift wrap cannot be
 * told by its time, only by the rumor's id. The bridge records an id after
 * acting on its message (a crash before that handles it again on restart;
 * what it does is keyed by the rumor id, so a retried "new task" makes one
 * task), and each record is flushed before the next message is read.
 *
 * Bounded: a rumor's own created_at is its real time (only the outer layers
 * are randomized), so rumors dated outside the window (`inWindow`) are
 * refused before this log is asked, and ids older than the window are
 * dropped when the file is compacted (rewritten to a temporary file,
 * flushed, renamed over it, the directory flushed) at open, after as many
 * new lines as it held, and at least hourly while ids come in.
 */
import { type FileHandle, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";

/** How long an id is kept, and how old a rumor may be: past the 3-day look-back, with room for clocks. */
export const WINDOW_S = 7 * 24 * 3600;
/** How far ahead of this clock a rumor may be dated. */
const AHEAD_S = 15 * 60;
/** Ids kept at most; past this the earliest recorded go first (a replay of one would be acted on again). */
const MAX_IDS = 200_000;
const COMPACT_EVERY_MS = 3_600_000;
const LINE = /^([0-9a-f]{64})(?: (\d{1,12}))?$/;

/** Whether a rumor dated `at` (Unix seconds) may be handled at `now` (ms). */
export function inWindow(at: number, now: number): boolean {
  const s = Math.floor(now / 1000);
  return at >= s - WINDOW_S && at <= s + AHEAD_S;
}

export class SeenLog {
  readonly #path: string;
  readonly #now: () => number;
  /** id → the rumor's created_at, in insertion order. */
  readonly #ids = new Map<string, number>();
  #file?: FileHandle;
  /** Lines appended since the last compaction, and when that was. */
  #appended = 0;
  #compactedAt = 0;

  private constructor(path: string, now: () => number) {
    this.#path = path;
    this.#now = now;
  }

  static async open(path: string, now: () => number = Date.now): Promise<SeenLog> {
    const log = new SeenLog(path, now);
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const loadedAt = Math.floor(now() / 1000);
    for (const line of text.split("\n")) {
      // A torn last line (a crash mid-append) matches nothing and is skipped; an id without a time (the first
      // version of this file) is kept for a window from now.
      const m = LINE.exec(line);
      if (m) log.#ids.set(m[1], m[2] === undefined ? loadedAt : Number(m[2]));
    }
    await log.#compact();
    return log;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Record `id` (a rumor dated `at`) durably; false if it was recorded already. */
  async add(id: string, at: number): Promise<boolean> {
    if (this.#ids.has(id)) return false;
    this.#ids.set(id, at);
    await (this.#file as FileHandle).appendFile(`${id} ${at}\n`);
    await (this.#file as FileHandle).datasync();
    this.#appended++;
    if (this.#ids.size > MAX_IDS) this.#ids.delete(this.#ids.keys().next().value as string);
    if (this.#appended >= Math.max(1_024, this.#ids.size) || this.#now() - this.#compactedAt > COMPACT_EVERY_MS) {
      await this.#compact();
    }
    return true;
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Forget ids older than the window and rewrite the file with the rest, atomically and flushed. */
  async #compact(): Promise<void> {
    this.#compactedAt = this.#now();
    const oldest = Math.floor(this.#compactedAt / 1000) - WINDOW_S;
    for (const [id, at] of this.#ids) if (at < oldest) this.#ids.delete(id);
    await this.#file?.close();
    const tmp = `${this.#path}.tmp`;
    const out = await open(tmp, "w", 0o600);
    try {
      await out.writeFile([...this.#ids].map(([id, at]) => `${id} ${at}\n`).join(""));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.#path);
    const dir = await open(dirname(this.#path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.#appended = 0;
    this.#file = await open(this.#path, "a", 0o600);
  }

  close(): Promise<void> {
    return (this.#file as FileHandle).close();
  }
}
