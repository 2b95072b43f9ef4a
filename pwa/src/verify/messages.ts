/** What the page and its verifying workers say to each other (worker-verifier.ts, worker.ts). */

/** A batch of signatures to check. */
export interface VerifyBatch {
  id: number;
  items: { did: string; message: Uint8Array; signature: Uint8Array }[];
}

/** The verdicts of a batch, in its order. */
export interface VerifyVerdicts {
  id: number;
  ok: boolean[];
}
