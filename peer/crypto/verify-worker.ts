/**
 * One signature-check thread of a peer's verify pool (verify-pool.ts):
 * packed batches in, one verdict byte per check out (verify-batch.ts), on
 * the port the pool gave it. Nothing of the protocol is loaded, so the
 * thread starts fast and its heap stays small.
 */
import { type BatchAnswer, type BatchRequest, checkBatch, poolPort } from "./verify-batch.ts";

const port = poolPort();
port.on("message", (req: BatchRequest) => {
  const ok = checkBatch(req.bytes);
  port.postMessage({ id: req.id, ok } satisfies BatchAnswer, [ok.buffer]);
});
