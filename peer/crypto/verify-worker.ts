/**
 * One signature-check thread of a peer's verify pool (verify-pool.ts):
 * packed batches in, one verdict byte per check out (verify-batch.ts).
 * Nothing of the protocol is loaded, so the thread starts fast and its heap
 * stays small.
 */
import { parentPort } from "node:worker_threads";
import { type BatchAnswer, type BatchRequest, checkBatch } from "./verify-batch.ts";

parentPort?.on("message", (req: BatchRequest) => {
  const ok = checkBatch(req.bytes);
  parentPort!.postMessage({ id: req.id, ok } satisfies BatchAnswer, [ok.buffer]);
});
