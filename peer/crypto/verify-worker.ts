/**
 * One thread of the verification pool (verify-pool.ts): checks batches of
 * Ed25519 signatures and answers one byte per signature.
 */
import { parentPort } from "node:worker_threads";
import { toBase64Url } from "#protocol";
import { checkSignature, ed25519Keys } from "./ed25519-keys.ts";

export interface VerifyBatch {
  id: number;
  /** Raw 32-byte public keys. */
  keys: Uint8Array[];
  messages: Uint8Array[];
  signatures: Uint8Array[];
}

export interface VerifyAnswer {
  id: number;
  /** 1 where the signature holds, 0 where it does not. */
  ok: Uint8Array;
}

const keyFor = ed25519Keys();

parentPort?.on("message", (batch: VerifyBatch) => {
  const ok = new Uint8Array(batch.keys.length);
  for (let i = 0; i < ok.length; i++) {
    const raw = batch.keys[i];
    if (!(raw instanceof Uint8Array) || raw.length !== 32) continue;
    ok[i] = checkSignature(keyFor(toBase64Url(raw), () => raw), batch.messages[i], batch.signatures[i]) ? 1 : 0;
  }
  parentPort!.postMessage({ id: batch.id, ok } satisfies VerifyAnswer);
});
