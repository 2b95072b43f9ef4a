/**
 * What the watchers of a node's stored artifacts see of each one as it is
 * written: its first block, and — for the few a watcher asks for by that
 * block, such as a run's packed source — its whole bytes. A source uploaded
 * just before its run is submitted is then unpacked from the bytes already
 * in memory, instead of being read back from disk and hashed a second time
 * while the run's claim is being made durable (both on the path to the
 * run's first line). Whole bytes are handed over only when they are exactly
 * what the store hashed into the artifact's CID, and only up to a bound.
 */
import { concatBytes } from "#protocol";

/** How much of a stored artifact's beginning its watchers see (one tar block: enough to tell a packed source). */
export const STORED_HEAD_BYTES = 512;
/** The most bytes of one artifact kept in memory for its watchers (larger ones they read from the store). */
export const MAX_WHOLE_BYTES = 64 * 1024 * 1024;

export interface StoredWatcher {
  /** Whether, by its first bytes (up to STORED_HEAD_BYTES), this artifact's whole bytes are wanted too. */
  wantsWhole?(head: Uint8Array): boolean;
  /**
   * An artifact was stored: its CID, its first bytes (fewer when the store already held it and did not read it
   * again), and, when wanted and within the bound (MAX_WHOLE_BYTES), all of its bytes, which hash to `cid`. Must not throw
   * or block.
   */
  stored(cid: string, head: Uint8Array, whole?: Uint8Array): void;
}

/** One artifact's bytes passing through on their way into a store, kept as its watchers need them. */
export class StoredTap {
  readonly #watchers: readonly StoredWatcher[];
  readonly #maxWhole: number;
  readonly #head = new Uint8Array(STORED_HEAD_BYTES);
  #headBytes = 0;
  /**
   * Copies of the chunks so far: kept while the head is incomplete (under one block) and then only while the
   * whole is wanted and within the bound; undefined after.
   */
  #chunks?: Uint8Array[] = [];
  #read = 0;
  /** The watchers that asked for the whole, once the head is judged (each is asked once); undefined before. */
  #wanting?: ReadonlySet<StoredWatcher>;

  constructor(watchers: readonly StoredWatcher[], maxWhole = MAX_WHOLE_BYTES) {
    this.#watchers = watchers;
    this.#maxWhole = maxWhole;
  }

  /** `source` passed through unchanged, each chunk seen on its way. */
  async *pass(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      this.#see(chunk);
      yield chunk;
    }
  }

  #see(chunk: Uint8Array): void {
    this.#read += chunk.length;
    if (this.#headBytes < STORED_HEAD_BYTES) {
      const take = chunk.subarray(0, STORED_HEAD_BYTES - this.#headBytes);
      this.#head.set(take, this.#headBytes);
      this.#headBytes += take.length;
      if (this.#headBytes === STORED_HEAD_BYTES) this.#decide();
    }
    if (!this.#chunks) return;
    // Copied: a source may reuse its buffer for the next chunk once this one is written.
    if (this.#read <= this.#maxWhole) this.#chunks.push(chunk.slice());
    else this.#chunks = undefined;
  }

  /** Once the head is known (full, or the artifact ended before it): keep the whole only if a watcher wants it. */
  #decide(): void {
    if (this.#wanting) return;
    const head = this.#head.subarray(0, this.#headBytes);
    this.#wanting = new Set(this.#watchers.filter((w) => w.wantsWhole?.(head)));
    if (this.#wanting.size === 0) this.#chunks = undefined;
  }

  /**
   * The store has written the artifact as `cid`, `size` bytes: tell every watcher. The whole goes only to those
   * who asked, and only when every byte the store hashed passed through here (it may skip reading bytes it holds).
   */
  stored(cid: string, size: number): void {
    this.#decide();
    const head = this.#head.subarray(0, this.#headBytes);
    const whole = this.#chunks && this.#read === size ? concatBytes(...this.#chunks) : undefined;
    for (const w of this.#watchers) w.stored(cid, head, whole && this.#wanting?.has(w) ? whole : undefined);
  }
}
