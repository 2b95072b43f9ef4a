/**
 * A Verifier that checks signatures in dedicated workers (worker.ts), off
 * the page's thread: protocol's BatchingVerifier sends the calls made in
 * one turn as batches to the least busy of one worker per spare core. If a
 * worker fails, what it held is checked on the page instead, and the worker
 * is not used again; with no Worker at all, everything is checked on the
 * page.
 */
import { BatchingVerifier, type Verifier, type VerifyItem, type VerifyLane } from "#protocol/identity";
import type { VerifyBatch, VerifyVerdicts } from "./messages.ts";

/** One dedicated worker: batches out, verdicts back; failed for good on its first error. */
class WorkerLane implements VerifyLane {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve(ok: boolean[]): void; reject(e: unknown): void }>();
  #next = 0;
  alive = true;

  constructor() {
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "weft-verify" });
    this.#worker.addEventListener("message", (e: MessageEvent<VerifyVerdicts>) => {
      const waiting = this.#waiting.get(e.data.id);
      if (!waiting) return;
      this.#waiting.delete(e.data.id);
      waiting.resolve(e.data.ok);
    });
    this.#worker.addEventListener("error", () => {
      this.alive = false;
      this.#worker.terminate();
      for (const w of this.#waiting.values()) w.reject(new Error("the verifying worker failed"));
      this.#waiting.clear();
    });
  }

  check(items: readonly VerifyItem[]): Promise<boolean[]> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      // Copied: a view into a larger buffer would send all of it.
      const batch = items.map(({ did, message, signature }) => ({
        did,
        message: message.slice(),
        signature: signature.slice(),
      }));
      this.#worker.postMessage({ id, items: batch } satisfies VerifyBatch);
    });
  }
}

export class WorkerVerifier extends BatchingVerifier {
  /** `local`: the verifier on the page, for when no worker can help. */
  constructor(local: Verifier, workers = Math.max(1, (navigator.hardwareConcurrency || 2) - 1)) {
    const lanes = typeof Worker === "undefined" ? [] : Array.from({ length: workers }, () => new WorkerLane());
    super({ local, lanes });
  }
}
