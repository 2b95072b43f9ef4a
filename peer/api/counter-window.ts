/**
 * The counters an API session has seen, so a MAC'd request is answered once.
 * A client numbers its requests 1, 2, 3…; concurrent ones may arrive out of
 * order, so the last WINDOW counters below the highest are remembered in a
 * bitmap (the anti-replay window of IPsec, RFC 6479) and anything older is
 * refused as too old. Memory per session is fixed, whatever it sends.
 */

/** How far behind the newest counter one may arrive and still be taken (a multiple of 32). */
export const WINDOW = 1024;

export class CounterWindow {
  #top = 0;
  readonly #bits = new Uint32Array(WINDOW / 32);

  /** The highest counter taken so far (0 before any). */
  get top(): number {
    return this.#top;
  }

  /**
   * Take counter `n` (a safe integer ≥ 1): true the first time, false if it
   * was taken before or is WINDOW or more behind the newest. Taking it is
   * recorded at once, so of two requests with one counter only one passes.
   */
  take(n: number): boolean {
    if (!Number.isSafeInteger(n) || n < 1) return false;
    if (n > this.#top) {
      if (n - this.#top >= WINDOW) this.#bits.fill(0);
      else for (let c = this.#top + 1; c < n; c++) this.#clear(c);
      this.#top = n;
      this.#set(n);
      return true;
    }
    if (this.#top - n >= WINDOW) return false;
    const word = (n % WINDOW) >>> 5, bit = 1 << (n & 31);
    if (this.#bits[word] & bit) return false;
    this.#bits[word] |= bit;
    return true;
  }

  #set(n: number): void {
    this.#bits[(n % WINDOW) >>> 5] |= 1 << (n & 31);
  }

  #clear(n: number): void {
    this.#bits[(n % WINDOW) >>> 5] &= ~(1 << (n & 31));
  }
}
