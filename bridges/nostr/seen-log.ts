/**
 * The rumor ids the bridge has handled, durably: NIP-59 randomizes wrap and
 * seal timestamps up to two days back, so a replayed gift wrap cannot be
 * told by its time, only by the rumor's id. Each id is appended and flushed
 * before the bridge acts on its message, so a replay is handled once, also
 * across a restart (at most once: a crash between the two loses that one
 * message, unanswered, and the person sends it again).
 */
import { type FileHandle, open, readFile } from "node:fs/promises";

const ID = /^[0-9a-f]{64}$/;

export class SeenLog {
  readonly #ids: Set<string>;
  readonly #file: FileHandle;

  private constructor(ids: Set<string>, file: FileHandle) {
    this.#ids = ids;
    this.#file = file;
  }

  static async open(path: string): Promise<SeenLog> {
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    // A torn last line (a crash mid-append) is not an id and is skipped.
    const ids = new Set(text.split("\n").filter((l) => ID.test(l)));
    return new SeenLog(ids, await open(path, "a", 0o600));
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Record `id` durably; false if it was already recorded (a replay). */
  async add(id: string): Promise<boolean> {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    await this.#file.appendFile(`\n${id}\n`);
    await this.#file.datasync();
    return true;
  }

  get size(): number {
    return this.#ids.size;
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
