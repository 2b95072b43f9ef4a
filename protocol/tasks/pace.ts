/**
 * Long batches of the log's work (a space's whole log read when it opens:
 * tens of thousands of operations decoded, hashed, checked and added) give
 * the host's event loop a turn every SLICE_MS, so a browser tab stays
 * responsive to input while it catches up behind its saved view, and a
 * peer to its sockets and API. A turn costs one timer, so a batch done
 * within one slice pays nothing; the order of the work is unchanged.
 *
 * A batch too small to fill a slice by itself (a live change's handful of
 * operations) never yields: the slice is measured in wall time, and what
 * makes such a batch outlast it is other work interleaved at its awaits. On
 * a busy node one turn of the event loop is every socket's backlog (seconds,
 * with ten peers in one process), so yielding would only put the batch
 * behind that work, again at every slice, while it held nothing up.
 */
const SLICE_MS = 40;
/** Steps below which a batch is done in one go: at a few hundred µs of work each, fewer fit in a slice. */
export const PACE_FROM = 128;

export class Pacer {
  #since = Date.now();
  readonly #paced: boolean;

  /** For a batch of `steps` steps (one turn() before each). */
  constructor(steps: number) {
    this.#paced = steps >= PACE_FROM;
  }

  /** Undefined within a slice (or for a small batch); after one, a promise that resolves once the event loop had its turn. */
  turn(): Promise<void> | undefined {
    if (!this.#paced || Date.now() - this.#since < SLICE_MS) return undefined;
    return new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
      this.#since = Date.now();
    });
  }
}
