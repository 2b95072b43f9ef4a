/**
 * Long batches of the log's work (a space's whole log read when it opens:
 * tens of thousands of operations decoded, hashed, checked and added) give
 * the host's event loop a turn every SLICE_MS, so a browser tab stays
 * responsive to input while it catches up behind its saved view, and a
 * peer to its sockets and API. A turn costs one timer, so a batch done
 * within one slice pays nothing; the order of the work is unchanged.
 */
const SLICE_MS = 40;

export class Pacer {
  #since = Date.now();

  /** Undefined within a slice; after one, a promise that resolves once the event loop had its turn. */
  turn(): Promise<void> | undefined {
    if (Date.now() - this.#since < SLICE_MS) return undefined;
    return new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
      this.#since = Date.now();
    });
  }
}
