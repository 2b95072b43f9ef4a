/** A verify worker that runs out of heap on every batch, for the pool's tests. */
import { poolPort } from "../../peer/crypto/verify-batch.ts";
import { fillHeap } from "./fill-heap.ts";

poolPort().on("message", () => fillHeap());
