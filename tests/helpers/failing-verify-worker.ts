/**
 * A verify worker (as peer/crypto/verify-worker.ts) that fails on demand,
 * for the pool's tests: a batch holding the message "crash" throws, one
 * holding "oom" fills the thread's heap until its limit ends it; any other
 * batch is answered as the real worker answers it.
 */
import {
  type BatchAnswer,
  type BatchRequest,
  checkBatch,
  poolPort,
  unpackBatch,
} from "../../peer/crypto/verify-batch.ts";
import { fillHeap } from "./fill-heap.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

const port = poolPort();
port.on("message", (req: BatchRequest) => {
  for (const c of unpackBatch(req.bytes)) {
    if (text(c.message) === "crash") throw new Error("this worker was told to crash");
    if (text(c.message) === "oom") fillHeap();
  }
  const ok = checkBatch(req.bytes);
  port.postMessage({ id: req.id, ok } satisfies BatchAnswer, [ok.buffer]);
});
