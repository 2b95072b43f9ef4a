/**
 * The log of each pod the virtual node runs, kept while the pod exists so
 * the API server can read it (`kubectl logs`, the kubernetes runner):
 * bounded in lines and bytes (the oldest go first), with followers woken as
 * lines arrive and told when the log ends.
 */
const MAX_BYTES = 4 * 1024 * 1024;

export class PodLog {
  readonly lines: string[] = [];
  #bytes = 0;
  #ended = false;
  readonly #followers = new Set<(line: string | undefined) => void>();

  get ended(): boolean {
    return this.#ended;
  }

  push(line: string): void {
    this.lines.push(line);
    this.#bytes += line.length + 1;
    while (this.#bytes > MAX_BYTES && this.lines.length > 1) this.#bytes -= this.lines.shift()!.length + 1;
    for (const f of this.#followers) f(line);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const f of this.#followers) f(undefined);
    this.#followers.clear();
  }

  /** Be told each new line, and `undefined` once when the log ends; returns the unsubscribe. */
  follow(listener: (line: string | undefined) => void): () => void {
    if (this.#ended) {
      listener(undefined);
      return () => {};
    }
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }
}
