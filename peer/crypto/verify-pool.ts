/**
 * Signature checks spread over the machine's cores: a Verifier whose checks
 * queue up during one turn of the event loop and are then split between
 * this thread and a few worker threads (verify-worker.ts), so a node taking
 * in a burst of operations verifies them in parallel. One check alone, or a
 * handful, is done here at once: a hop to a thread costs more than it saves.
 *
 * Answers are the native verifier's (node:crypto, the same cache of keys);
 * a malformed DID is refused before it is queued, as there.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { publicKeyFromDid, type Verifier } from "#protocol/identity";
import { nativeVerifier } from "./native-verifier.ts";
import type { VerifyAnswer, VerifyBatch } from "./verify-worker.ts";

/** Below this many queued checks, threads are not worth their hop. */
const INLINE_BELOW = 8;

interface Pending {
  did: string;
  key: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  resolve(ok: boolean): void;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not yet answered, by id. */
  waiting: Map<number, Pending[]>;
}

export interface VerifyPool extends Verifier {
  /** Worker threads (the calling thread takes a share as well). */
  readonly threads: number;
  /** Signatures checked so far on the calling thread and in worker threads. */
  readonly checked: { here: number; threads: number };
  close(): Promise<void>;
}

/** `threads`: worker threads besides this one; by default one fewer than the cores. */
export function verifyPool(options: { threads?: number } = {}): VerifyPool {
  const count = Math.max(0, options.threads ?? availableParallelism() - 1);
  const local = nativeVerifier();
  const raws = new Map<string, Uint8Array>();
  const rawKey = (did: string) => {
    let raw = raws.get(did);
    if (raw === undefined) {
      raw = publicKeyFromDid(did); // throws InvalidDid for a malformed DID, as the native verifier does
      if (raws.size >= 4096) raws.delete(raws.keys().next().value as string);
      raws.set(did, raw);
    }
    return raw;
  };
  let queue: Pending[] = [];
  let scheduled = false;
  let nextId = 0;
  let closed = false;
  const checked = { here: 0, threads: 0 };

  const threads: Thread[] = Array.from({ length: count }, () => {
    const worker = new Worker(new URL("./verify-worker.ts", import.meta.url));
    worker.unref();
    const thread: Thread = { worker, waiting: new Map() };
    worker.on("message", (answer: VerifyAnswer) => {
      const batch = thread.waiting.get(answer.id);
      if (!batch) return;
      thread.waiting.delete(answer.id);
      checked.threads += batch.length;
      batch.forEach((p, i) => p.resolve(answer.ok[i] === 1));
    });
    worker.on("error", () => {
      // A thread that died answers nothing more: its waiting checks are done here instead.
      threads.splice(threads.indexOf(thread), 1);
      for (const batch of thread.waiting.values()) void verifyHere(batch);
      thread.waiting.clear();
    });
    return thread;
  });

  async function verifyHere(batch: Pending[]): Promise<void> {
    checked.here += batch.length;
    for (const p of batch) p.resolve(await local.verify(p.did, p.message, p.signature));
  }

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length < INLINE_BELOW || threads.length === 0) return void verifyHere(batch);
    // Equal shares for each thread and this one; this one's share is checked while the threads work.
    const share = Math.ceil(batch.length / (threads.length + 1));
    let at = share;
    for (const thread of threads) {
      const part = batch.slice(at, at + share);
      at += share;
      if (part.length === 0) break;
      const id = nextId++;
      thread.waiting.set(id, part);
      thread.worker.postMessage(
        {
          id,
          keys: part.map((p) => p.key),
          messages: part.map((p) => p.message),
          signatures: part.map((p) => p.signature),
        } satisfies VerifyBatch,
      );
    }
    void verifyHere(batch.slice(0, share));
  }

  return {
    threads: count,
    checked,
    verify(did, message, signature) {
      if (closed) return local.verify(did, message, signature);
      const key = rawKey(did);
      return new Promise<boolean>((resolve) => {
        queue.push({ did, key, message, signature, resolve });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      closed = true;
      const left = threads.splice(0);
      for (const t of left) for (const batch of t.waiting.values()) await verifyHere(batch);
      await Promise.all(left.map((t) => t.worker.terminate()));
    },
  };
}
