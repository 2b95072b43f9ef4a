/**
 * A Verifier that checks signatures in dedicated workers (worker.ts), off
 * the page's thread: the calls made in one turn go as one batch to the
 * least busy worker, one worker per spare core. If a worker fails, what it
 * held is checked on the page instead, and the worker is not used again;
 * with no Worker at all, everything is checked on the page.
 */
import { publicKeyFromDid, type Verifier } from "#protocol/identity";
import type { VerifyBatch, VerifyVerdicts } from "./messages.ts";

interface Pending {
  item: VerifyBatch["items"][number];
  resolve(ok: boolean): void;
  reject(e: unknown): void;
}

interface Lane {
  worker: Worker;
  /** Batches sent and not answered, by id. */
  waiting: Map<number, Pending[]>;
  held: number;
}

/** Signatures per batch at most, so one batch never holds a worker long. */
const MAX_BATCH = 256;

export class WorkerVerifier implements Verifier {
  readonly #local: Verifier;
  readonly #lanes: Lane[] = [];
  #queue: Pending[] = [];
  #scheduled = false;
  #next = 0;

  /** `local`: the verifier on the page, for when no worker can help. */
  constructor(local: Verifier, workers = Math.max(1, (navigator.hardwareConcurrency || 2) - 1)) {
    this.#local = local;
    if (typeof Worker === "undefined") return;
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "weft-verify" });
      const lane: Lane = { worker, waiting: new Map(), held: 0 };
      worker.addEventListener("message", (e: MessageEvent<VerifyVerdicts>) => {
        const batch = lane.waiting.get(e.data.id);
        if (!batch) return;
        lane.waiting.delete(e.data.id);
        lane.held -= batch.length;
        batch.forEach((p, i) => p.resolve(e.data.ok[i] === true));
      });
      worker.addEventListener("error", () => this.#drop(lane));
      this.#lanes.push(lane);
    }
  }

  verify(did: string, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.#lanes.length === 0) return this.#local.verify(did, message, signature);
    return new Promise((resolve, reject) => {
      publicKeyFromDid(did); // a malformed DID throws here, as on the page
      // Copied: a view into a larger buffer would send all of it.
      this.#queue.push({ item: { did, message: message.slice(), signature: signature.slice() }, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setTimeout(() => this.#send(), 0);
      }
    });
  }

  #send(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const lane = this.#lanes.reduce<Lane | undefined>(
        (a, l) => (a === undefined || l.held < a.held ? l : a),
        undefined,
      );
      if (lane === undefined) {
        for (const p of batch) this.#onPage(p);
        continue;
      }
      const id = this.#next++;
      lane.waiting.set(id, batch);
      lane.held += batch.length;
      lane.worker.postMessage({ id, items: batch.map((p) => p.item) } satisfies VerifyBatch);
    }
  }

  /** A worker that failed: check what it held on the page, and send it nothing more. */
  #drop(lane: Lane): void {
    lane.worker.terminate();
    this.#lanes.splice(this.#lanes.indexOf(lane), 1);
    for (const batch of lane.waiting.values()) for (const p of batch) this.#onPage(p);
    lane.waiting.clear();
  }

  #onPage(p: Pending): void {
    this.#local.verify(p.item.did, p.item.message, p.item.signature).then(p.resolve, p.reject);
  }
}
