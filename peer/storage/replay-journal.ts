/**
 * The API's used bearers, on disk, so a bearer used once stays refused after
 * a restart. One line per bearer, `<expiry seconds> <invocation CID>`,
 * appended with group commit: an `add` resolves only once its line is
 * fdatasync'd, and the request that used the bearer is answered after that.
 * Bearers live minutes at most, so the journal stays small: on open, and
 * whenever the cache asks, it is rewritten (atomically) with the live ones.
 * A torn last line (a crash mid-write) parses as nothing and is dropped; the
 * bearer it named was never answered.
 */
import { type FileHandle, open, readFile } from "node:fs/promises";
import { WeftError } from "#protocol";
import { writeFileAtomic } from "./atomic-file.ts";

const LINE = /^(\d{1,12}) ([A-Za-z0-9]{1,128})$/;

interface Pending {
  line: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function linesOf(entries: ReadonlyMap<string, number>): string {
  let out = "";
  for (const [key, exp] of entries) out += `${exp} ${key}\n`;
  return out;
}

export class ReplayJournal {
  readonly #path: string;
  #file: FileHandle;
  #pending: Pending[] = [];
  #rewrite: ReadonlyMap<string, number> | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;

  private constructor(path: string, file: FileHandle) {
    this.#path = path;
    this.#file = file;
  }

  /** Open (or create) the journal at `path`; resolves to it and the entries still live at `now` (seconds). */
  static async open(path: string, now: number): Promise<{ journal: ReplayJournal; seen: Map<string, number> }> {
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new WeftError("StorageError", "storage/io", `cannot read ${path}: ${(e as Error).message}`);
      }
    }
    const seen = new Map<string, number>();
    const lines = text.split("\n");
    lines.pop(); // "" after the last newline, or a torn line
    for (const line of lines) {
      const m = LINE.exec(line);
      if (m && Number(m[1]) >= now) seen.set(m[2], Number(m[1]));
    }
    await writeFileAtomic(path, linesOf(seen), 0o600);
    return { journal: new ReplayJournal(path, await open(path, "a", 0o600)), seen };
  }

  /** Record a used bearer; resolves once it is on disk. */
  add(key: string, exp: number): Promise<void> {
    if (this.#closed) return Promise.reject(new WeftError("StorageError", "storage/io", "the journal is closed"));
    const line = `${exp} ${key}`;
    if (!LINE.test(line)) return Promise.reject(new WeftError("StorageError", "storage/io", `bad entry ${line}`));
    return new Promise((resolve, reject) => {
      this.#pending.push({ line: line + "\n", resolve, reject });
      this.#writing ??= this.#drain();
    });
  }

  /**
   * Replace the journal with `live` (a snapshot holding at least every entry
   * added so far), in order with the adds around it. If the rewrite fails
   * the old journal stays, only larger.
   */
  rewrite(live: ReadonlyMap<string, number>): void {
    if (this.#closed) return;
    this.#rewrite = live;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    await new Promise((r) => setImmediate(r)); // let callers in this turn of the event loop join the batch
    while (this.#pending.length > 0 || this.#rewrite) {
      const live = this.#rewrite;
      this.#rewrite = undefined;
      if (live) await this.#replace(live).catch(() => {}); // the old journal stays, only larger
      const batch = this.#pending;
      this.#pending = [];
      if (batch.length === 0) continue;
      try {
        await this.#file.write(batch.map((p) => p.line).join(""), null, "utf8");
        await this.#file.datasync();
        for (const p of batch) p.resolve();
      } catch (e) {
        const err = new WeftError(
          "StorageError",
          "storage/io",
          `writing ${this.#path} failed: ${(e as Error).message}`,
        );
        for (const p of batch) p.reject(err);
      }
    }
    this.#writing = undefined;
  }

  async #replace(live: ReadonlyMap<string, number>): Promise<void> {
    await this.#file.close();
    try {
      await writeFileAtomic(this.#path, linesOf(live), 0o600);
    } finally {
      this.#file = await open(this.#path, "a", 0o600);
    }
  }

  /** Wait for queued writes, then close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#writing) await this.#writing;
    await this.#file.close();
  }
}
