/**
 * One sync at a time per key, in order, and a record of which keys are
 * current. A key counts as current only when the last sync asked for it
 * said so: an earlier run that ends after a later one was queued (the
 * state moved while it ran) never marks the key current, so a later run
 * that fails leaves it to be tried again.
 */
export class SyncQueue {
  readonly #running = new Map<string, Promise<void>>();
  readonly #current = new Set<string>();
  readonly #onError: (key: string, error: unknown) => void;

  constructor(onError: (key: string, error: unknown) => void) {
    this.#onError = onError;
  }

  /** Whether the last run for the key ended saying everything was as it should be. */
  isCurrent(key: string): boolean {
    return this.#current.has(key);
  }

  /** Queue `run` after the key's earlier runs; it resolves true when the key is current. */
  run(key: string, run: () => Promise<boolean>): Promise<void> {
    this.#current.delete(key);
    const next: Promise<void> = (this.#running.get(key) ?? Promise.resolve()).then(run).then(
      (current) => {
        if (current && this.#running.get(key) === next) this.#current.add(key);
      },
      (e) => this.#onError(key, e),
    );
    this.#running.set(key, next);
    void next.then(() => {
      if (this.#running.get(key) === next) this.#running.delete(key);
    });
    return next;
  }

  /** Resolves when every queued run has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.#running.values()]);
  }
}
