/** A verify worker that runs out of heap on every batch, for the pool's tests. */
import { parentPort } from "node:worker_threads";
import { fillHeap } from "./fill-heap.ts";

parentPort!.on("message", () => fillHeap());
