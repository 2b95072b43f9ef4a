/**
 * The verification pool gives the native verifier's answers, whether a
 * check is done on the calling thread or in a worker thread: good
 * signatures hold; a changed message, another key's signature, a short or
 * missing signature fail; a malformed DID is refused before it is queued;
 * and a burst (which the pool spreads over its threads) is judged entry by
 * entry, even when good and bad signatures are mixed in it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { verifyPool } from "../../peer/crypto/verify-pool.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { signers } from "../helpers/principals.ts";

const text = (s: string) => new TextEncoder().encode(s);

describe("verification pool", () => {
  it("answers as the native verifier does, alone and in a mixed burst spread over threads", async () => {
    const [a, b] = await signers(2);
    const pool = verifyPool({ threads: 2 });
    const native = nativeVerifier();
    try {
      const cases = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
        const message = text(`operation ${i}`);
        const signature = await (i % 3 === 1 ? b : a).sign(message);
        switch (i % 5) {
          case 0:
            return { did: a.did, message, signature }; // good when signed by a
          case 1:
            return { did: a.did, message, signature }; // b's signature under a's DID
          case 2:
            return { did: a.did, message: text(`operation ${i}!`), signature }; // changed message
          case 3:
            return { did: a.did, message, signature: signature.slice(0, 63) }; // short signature
          default:
            return { did: b.did, message, signature };
        }
      }));
      const expected = await Promise.all(cases.map((c) => native.verify(c.did, c.message, c.signature)));
      assert.ok(expected.includes(true) && expected.includes(false), "the burst mixes good and bad");
      // All at once: one flush, split between this thread and the workers.
      const burst = await Promise.all(cases.map((c) => pool.verify(c.did, c.message, c.signature)));
      assert.deepEqual(burst, expected);
      assert.ok(pool.checked.threads > 0 && pool.checked.here > 0, "the burst was shared with the threads");
      // One at a time: each checked on this thread.
      for (let i = 0; i < 10; i++) {
        assert.equal(await pool.verify(cases[i].did, cases[i].message, cases[i].signature), expected[i]);
      }
      assert.throws(() => pool.verify("did:key:zNotAKey", text("x"), new Uint8Array(64)));
    } finally {
      await pool.close();
    }
    // Closed, it still answers, on this thread.
    const message = text("after close");
    assert.equal(await pool.verify(a.did, message, await a.sign(message)), true);
  });
});
