/**
 * A dedicated worker that checks Ed25519 signatures for the page
 * (worker-verifier.ts): Chromium runs WebCrypto's verifies on the calling
 * thread, so a node verifying thousands of operations would hold the page's
 * thread for seconds. Batches in, verdicts out, nothing kept.
 */
import { defaultVerifier } from "#protocol/identity";
import type { VerifyBatch, VerifyVerdicts } from "./messages.ts";

const verifier = defaultVerifier();

addEventListener("message", async (e: MessageEvent<VerifyBatch>) => {
  const v = await verifier;
  const ok = await Promise.all(
    e.data.items.map(({ did, message, signature }) => v.verify(did, message, signature).catch(() => false)),
  );
  postMessage({ id: e.data.id, ok } satisfies VerifyVerdicts);
});
