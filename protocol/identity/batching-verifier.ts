/**
 * A Verifier that moves signature checks off the calling thread: the checks
 * asked for together (before the injected scheduler runs: one turn of the
 * event loop, or one run of microtasks) go, as bounded batches, to the
 * least busy of a few lanes the shell provides (worker threads on a peer,
 * dedicated workers in the browser). A node taking in a burst of
 * operations then goes on with its sync work while the signatures are
 * checked elsewhere, on another core. A lane that can hand over answers
 * that have arrived without waiting for the event loop (`poll`) is asked
 * to at every new check: on a busy node a turn of the loop is every
 * socket's backlog, seconds long, and a verdict waiting for it would hold
 * up the operations behind it.
 *
 * A burst is pipelined and shared: a batch goes out as soon as `sendAt`
 * checks are queued, so a lane starts on it while this thread is still
 * decoding the rest, and once every lane holds `shareAbove` checks this
 * thread checks the next batch itself instead of waiting on them. A burst
 * then uses every core, this one included.
 *
 * Runtime-free: the lanes and the turn scheduler are injected. A lane that
 * fails a batch (its thread crashed, ran out of memory, was stopped) has
 * that batch checked here instead, so a failure costs time, never a
 * verdict; a lane that is no longer `alive` gets nothing more. A malformed
 * DID is refused here, as the local verifier would; a signature that is
 * not 64 bytes is false without a hop; a message too large for a batch is
 * checked here.
 */
import { publicKeyFromDid } from "./did-key.ts";
import type { Verifier } from "./ed25519.ts";

/** One check, as a lane receives it: the signer's raw 32-byte key with its DID. */
export interface VerifyItem {
  readonly did: string;
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** Somewhere off the calling thread that checks signatures. */
export interface VerifyLane {
  /** False once the lane will take no more batches (it failed for good, or was closed). */
  readonly alive: boolean;
  /** Verdicts for `items`, in order; rejects if the lane could not answer. */
  check(items: readonly VerifyItem[]): Promise<boolean[]>;
  /**
   * Hand over, now, answers that have arrived but wait for the event loop's
   * next turn (on a busy node, a turn is every socket's backlog: seconds).
   */
  poll?(): void;
}

export interface BatchingVerifierOptions {
  /** Checks on this thread: for a lone check, a failed lane's batch, or when no lane is alive. */
  local: Verifier;
  lanes: readonly VerifyLane[];
  /** Runs `fn` once the checks asked for together are all asked for (default: setTimeout 0, the next turn). */
  schedule?: (fn: () => void) => void;
  /** Fewer checks than this in a turn are done here: a hop would cost more than it saves. */
  inlineBelow?: number;
  /** Checks per batch at most, so one batch never holds a lane long. */
  maxBatch?: number;
  /** Message bytes per batch at most: what a lane must hold at once is bounded. */
  maxBatchBytes?: number;
  /** Queued checks that go out at once, without waiting for the scheduler (default: maxBatch). */
  sendAt?: number;
  /** Checks every alive lane must already hold for a batch to be checked here instead (default: never). */
  shareAbove?: number;
}

export interface BatchingCounts {
  /** Checks a lane answered. */
  lanes: number;
  /** Checks done on this thread. */
  here: number;
  /** Batches a lane failed (then checked here). */
  failedBatches: number;
}

interface Pending {
  item: VerifyItem;
  resolve(ok: boolean): void;
  reject(e: unknown): void;
}

export const DEFAULT_MAX_BATCH = 256;
export const DEFAULT_MAX_BATCH_BYTES = 1 << 20;

export class BatchingVerifier implements Verifier {
  readonly #local: Verifier;
  readonly #lanes: readonly VerifyLane[];
  readonly #held: number[];
  readonly #schedule: (fn: () => void) => void;
  readonly #inlineBelow: number;
  readonly #maxBatch: number;
  readonly #maxBatchBytes: number;
  readonly #sendAt: number;
  readonly #shareAbove: number;
  #queue: Pending[] = [];
  #scheduled = false;
  readonly counts: BatchingCounts = { lanes: 0, here: 0, failedBatches: 0 };

  constructor(options: BatchingVerifierOptions) {
    this.#local = options.local;
    this.#lanes = options.lanes;
    this.#held = options.lanes.map(() => 0);
    this.#schedule = options.schedule ?? ((fn) => void setTimeout(fn, 0));
    this.#inlineBelow = options.inlineBelow ?? 1;
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.#maxBatchBytes = Math.max(1, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    this.#sendAt = Math.max(this.#inlineBelow, 1, options.sendAt ?? this.#maxBatch);
    this.#shareAbove = options.shareAbove ?? Infinity;
  }

  verify(did: string, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    this.poll();
    const publicKey = publicKeyFromDid(did); // a malformed DID throws here, as with the local verifier
    if (!(signature instanceof Uint8Array) || signature.length !== 64 || !(message instanceof Uint8Array)) {
      return Promise.resolve(false);
    }
    if (message.length > this.#maxBatchBytes || !this.#lanes.some((l) => l.alive)) {
      return this.#here({ did, publicKey, message, signature });
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ item: { did, publicKey, message, signature }, resolve, reject });
      if (this.#queue.length >= this.#sendAt) return this.#drain();
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.#flush());
      }
    });
  }

  /** Take the lanes' answers that have arrived (each new check does, so a busy node's checks never wait a turn for them). */
  poll(): void {
    for (const lane of this.#lanes) lane.poll?.();
  }

  #here(item: VerifyItem): Promise<boolean> {
    this.counts.here++;
    try {
      return this.#local.verify(item.did, item.message, item.signature);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #flush(): void {
    this.#scheduled = false;
    this.#drain();
  }

  /** Send what is queued, as bounded batches. */
  #drain(): void {
    const queue = this.#queue;
    this.#queue = [];
    if (queue.length < this.#inlineBelow) {
      for (const p of queue) this.#here(p.item).then(p.resolve, p.reject);
      return;
    }
    let at = 0;
    while (at < queue.length) {
      let bytes = 0;
      let end = at;
      while (
        end < queue.length && end - at < this.#maxBatch && bytes + queue[end].item.message.length <= this.#maxBatchBytes
      ) {
        bytes += queue[end++].item.message.length;
      }
      this.#send(queue.slice(at, end));
      at = end;
    }
  }

  /** To the alive lane holding the fewest checks; here if none is alive, or every one holds its share already. */
  #send(batch: Pending[]): void {
    let lane = -1;
    for (let i = 0; i < this.#lanes.length; i++) {
      if (this.#lanes[i].alive && (lane < 0 || this.#held[i] < this.#held[lane])) lane = i;
    }
    if (lane < 0 || this.#held[lane] >= this.#shareAbove) {
      for (const p of batch) this.#here(p.item).then(p.resolve, p.reject);
      return;
    }
    this.#held[lane] += batch.length;
    let answer: Promise<boolean[]>;
    try {
      answer = this.#lanes[lane].check(batch.map((p) => p.item));
    } catch (e) {
      answer = Promise.reject(e);
    }
    const fallBack = () => {
      this.counts.failedBatches++;
      for (const p of batch) this.#here(p.item).then(p.resolve, p.reject);
    };
    answer.then((ok) => {
      this.#held[lane] -= batch.length;
      // A lane that answers with the wrong number of verdicts is not believed: its batch is checked here.
      if (!Array.isArray(ok) || ok.length !== batch.length) return fallBack();
      this.counts.lanes += batch.length;
      batch.forEach((p, i) => p.resolve(ok[i] === true));
    }, () => {
      // The lane could not answer: what it held is checked here.
      this.#held[lane] -= batch.length;
      fallBack();
    });
  }
}
