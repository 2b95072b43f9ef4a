/**
 * A peer's signature checks on its spare cores: worker threads
 * (verify-worker.ts) behind protocol's BatchingVerifier, so a node taking
 * in a burst of operations (a partition healing, a replica catching up)
 * goes on with its sync work while another core checks the signatures.
 *
 * A worker must never take the daemon down: each runs under a heap limit
 * (a JavaScript heap overflow ends that thread with ERR_WORKER_OUT_OF_MEMORY,
 * not the process), and what it must hold outside its heap is bounded by
 * the batch limits before anything is sent. A worker that fails (crash,
 * heap limit, terminated) has its batches checked on the main thread and is
 * replaced on the next batch; one that fails MAX_FAILURES times in a row
 * is given up, and every check is then done on the main thread. Workers do
 * not keep the process alive while idle.
 *
 * A batch goes out as soon as the checks asked for together are queued (a
 * microtask later, not a turn of the event loop later), and each worker
 * talks on a MessagePort of its own, so answers that have arrived are taken
 * at the next check (receiveMessageOnPort) even while the event loop is
 * deep in other sockets' work. Waiting for the loop instead cost a busy
 * node seconds per batch: ten peers in one process applied operations up to
 * 2 s after holding them, and the pool was slower than no pool.
 */
import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import {
  type BatchingCounts,
  BatchingVerifier,
  type Verifier,
  type VerifyItem,
  type VerifyLane,
} from "#protocol/identity";
import { nativeVerifier } from "./native-verifier.ts";
import { type BatchAnswer, type BatchRequest, packBatch } from "./verify-batch.ts";

/** Failures in a row (no batch answered between them) before a lane is given up. */
export const MAX_FAILURES = 3;
/** Checks per batch of a burst: ~6 ms of a worker's time, small enough to start on while the rest is decoded. */
const SLICE = 64;
/** Heap limits per worker (MB): ample for a few thousand imported keys. */
const HEAP_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };

export interface VerifyPoolOptions {
  /** Worker threads; by default one per core beyond the first (none on one core). */
  threads?: number;
  /** The worker's script (a test gives one that fails). */
  script?: URL;
  /** Told of each worker failure, for the node's log. */
  onFailure?: (error: Error, givenUp: boolean) => void;
}

export interface VerifyPool extends Verifier {
  readonly threads: number;
  readonly counts: BatchingCounts;
  /** Lanes still in use. */
  readonly alive: number;
  /** Stop the workers; later checks are done on the main thread. */
  close(): Promise<void>;
}

class WorkerLane implements VerifyLane {
  readonly #script: URL;
  readonly #onFailure?: (error: Error, givenUp: boolean) => void;
  #worker?: Worker;
  #port?: MessagePort;
  #waiting = new Map<number, { resolve(ok: boolean[]): void; reject(e: unknown): void }>();
  #next = 0;
  #failures = 0;
  #closed = false;

  constructor(script: URL, onFailure?: (error: Error, givenUp: boolean) => void) {
    this.#script = script;
    this.#onFailure = onFailure;
  }

  get alive(): boolean {
    return !this.#closed && this.#failures < MAX_FAILURES;
  }

  check(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (!this.alive) return Promise.reject(new Error("this verify lane is closed"));
    const port = this.#port ?? this.#start();
    const id = this.#next++;
    const bytes = packBatch(items);
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      port.ref(); // an answer is owed: keep the process up for it
      port.postMessage({ id, bytes } satisfies BatchRequest, [bytes.buffer]);
    });
  }

  /** Take the answers the worker has posted already, now rather than on the event loop's next turn. */
  poll(): void {
    const port = this.#port;
    if (!port || this.#waiting.size === 0) return;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      this.#answer(port, m.message as BatchAnswer);
    }
  }

  #answer(port: MessagePort, answer: BatchAnswer): void {
    const waiting = this.#waiting.get(answer.id);
    if (!waiting) return;
    this.#waiting.delete(answer.id);
    if (this.#waiting.size === 0) port.unref();
    this.#failures = 0;
    waiting.resolve(Array.from(answer.ok, (b) => b === 1));
  }

  #start(): MessagePort {
    const { port1: port, port2 } = new MessageChannel();
    const worker = new Worker(this.#script, {
      resourceLimits: HEAP_LIMITS,
      name: "weft-verify",
      workerData: { port: port2 },
      transferList: [port2],
    });
    worker.unref();
    port.on("message", (answer: BatchAnswer) => this.#answer(port, answer));
    port.unref();
    const failed = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#port = undefined;
      port.close();
      const waiting = [...this.#waiting.values()];
      this.#waiting.clear();
      if (!this.#closed) {
        this.#failures++;
        this.#onFailure?.(error, !this.alive);
      }
      for (const w of waiting) w.reject(error);
      void worker.terminate();
    };
    worker.on("error", failed);
    port.on("messageerror", failed);
    worker.on("exit", (code) => failed(new Error(`the verify worker exited (code ${code})`)));
    this.#worker = worker;
    this.#port = port;
    return port;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (worker) {
      this.#worker = undefined;
      this.#port?.close();
      this.#port = undefined;
      for (const w of this.#waiting.values()) w.reject(new Error("the verify pool was closed"));
      this.#waiting.clear();
      await worker.terminate();
    }
  }
}

export function verifyPool(options: VerifyPoolOptions = {}): VerifyPool {
  const count = Math.max(0, options.threads ?? availableParallelism() - 1);
  const script = options.script ?? new URL("./verify-worker.ts", import.meta.url);
  const lanes = Array.from({ length: count }, () => new WorkerLane(script, options.onFailure));
  const batching = new BatchingVerifier({
    local: nativeVerifier(),
    lanes,
    // Checks asked for together (a bucket change's operations) are asked for in one run of microtasks.
    schedule: queueMicrotask,
    // A lone check (an API call's) is done at once here: the hop would cost more than the check.
    inlineBelow: 2,
    // A burst goes out in slices as it is decoded, and this thread checks a slice itself while every worker holds two.
    sendAt: SLICE,
    shareAbove: 2 * SLICE,
  });
  return {
    threads: count,
    counts: batching.counts,
    get alive() {
      return lanes.filter((l) => l.alive).length;
    },
    verify: (did, message, signature) => batching.verify(did, message, signature),
    async close() {
      await Promise.all(lanes.map((l) => l.close()));
    },
  };
}
