/**
 * The peer's verify pool (peer/crypto/verify-pool.ts) gives the native
 * verifier's verdicts whether a check runs in a worker thread or here; a
 * forged signature is refused on every path; and a worker that crashes or
 * runs out of heap leaves the process running and every verdict right (its
 * batches are checked here, the worker is replaced, and after failing
 * MAX_FAILURES times in a row it is given up).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_FAILURES, verifyPool } from "../../peer/crypto/verify-pool.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { signers } from "../helpers/principals.ts";

const text = (s: string) => new TextEncoder().encode(s);
const failing = new URL("../helpers/failing-verify-worker.ts", import.meta.url);

/** A burst mixing good signatures with forged ones of every kind. */
async function burst(n: number) {
  const [a, b] = await signers(2);
  const cases = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const message = text(`operation ${i}`);
    const signature = await (i % 6 === 1 ? b : a).sign(message);
    switch (i % 6) {
      case 1:
        return { did: a.did, message, signature }; // b's signature under a's DID
      case 2:
        return { did: a.did, message: text(`operation ${i}!`), signature }; // changed message
      case 3: {
        const flipped = signature.slice();
        flipped[10] ^= 1;
        return { did: a.did, message, signature: flipped }; // one bit of the signature
      }
      case 4:
        return { did: a.did, message, signature: signature.slice(0, 63) }; // short signature
      default:
        return { did: a.did, message, signature }; // good
    }
  }));
  const native = nativeVerifier();
  const expected = await Promise.all(cases.map((c) => native.verify(c.did, c.message, c.signature)));
  assert.ok(expected.includes(true) && expected.includes(false), "the burst mixes good and forged");
  return { a, cases, expected };
}

describe("verify pool", () => {
  it("answers as the native verifier does, in worker threads and here", async () => {
    const { a, cases, expected } = await burst(600);
    const pool = verifyPool({ threads: 2 });
    try {
      const verdicts = await Promise.all(cases.map((c) => pool.verify(c.did, c.message, c.signature)));
      assert.deepEqual(verdicts, expected);
      // Each worker is sent two slices (64 checks each) before this thread takes its own share.
      assert.ok(pool.counts.lanes >= 256, `the burst went to both workers (${JSON.stringify(pool.counts)})`);
      // A lone check is done here, at once.
      const here = pool.counts.here;
      for (let i = 0; i < 6; i++) {
        assert.equal(await pool.verify(cases[i].did, cases[i].message, cases[i].signature), expected[i]);
      }
      assert.ok(pool.counts.here > here, "lone checks were done on this thread");
      assert.throws(() => pool.verify("did:key:zNotAKey", text("x"), new Uint8Array(64)));
    } finally {
      await pool.close();
    }
    // Closed, it still answers, here.
    const m = text("after close");
    assert.equal(await pool.verify(a.did, m, await a.sign(m)), true);
    assert.equal(await pool.verify(a.did, text("other"), await a.sign(m)), false);
  });

  it("sends a burst and takes its answers while the event loop gets no turn (a busy node's sockets)", async () => {
    const { cases, expected } = await burst(24);
    const pool = verifyPool({ threads: 1 });
    try {
      const more: Promise<boolean>[] = [];
      let done = false;
      const burstVerdicts = Promise.all(cases.map((c) => pool.verify(c.did, c.message, c.signature)));
      void burstVerdicts.then(() => (done = true));
      // From here until the verdicts are in, only microtasks run: no timer, no immediate, no I/O callback. Each
      // round keeps the thread busy for a while, as other sockets' work does, then asks for one more check.
      const until = Date.now() + 10_000;
      while (!done && Date.now() < until) {
        const busyUntil = Date.now() + 20;
        while (Date.now() < busyUntil) { /* busy, as a node's sync work is */ }
        more.push(pool.verify(cases[0].did, cases[0].message, cases[0].signature));
        for (let i = 0; i < 8; i++) await null;
      }
      assert.ok(done, "the burst's verdicts arrived with no turn of the event loop");
      assert.deepEqual(await burstVerdicts, expected);
      const hops = cases.filter((c) => c.signature.length === 64).length; // a short signature is false at once
      assert.ok(pool.counts.lanes >= hops, `a worker checked them (${JSON.stringify(pool.counts)})`);
      await Promise.all(more);
    } finally {
      await pool.close();
    }
  });

  it("a worker that crashes or runs out of heap costs time, never a verdict, and is replaced", async () => {
    // 30 checks with a hop, 31 with the poison: fewer than a slice (64), so each burst is one batch for the worker.
    const { a, cases, expected } = await burst(36);
    const failures: { error: Error; givenUp: boolean }[] = [];
    const pool = verifyPool({
      threads: 1,
      script: failing,
      onFailure: (error, givenUp) => failures.push({ error, givenUp }),
    });
    const poison = async (word: string) => {
      // Forged and good checks travel with the poison: each must still get its right verdict.
      const m = text(word);
      const all = [...cases, { did: a.did, message: m, signature: await a.sign(m) }];
      const verdicts = await Promise.all(all.map((c) => pool.verify(c.did, c.message, c.signature)));
      assert.deepEqual(verdicts, [...expected, true], `verdicts with a worker told to ${word}`);
    };
    const healthy = async () => {
      const before = pool.counts.lanes;
      const verdicts = await Promise.all(cases.map((c) => pool.verify(c.did, c.message, c.signature)));
      assert.deepEqual(verdicts, expected);
      return pool.counts.lanes - before;
    };
    // A signature that is not 64 bytes is false without a hop.
    const sent = cases.filter((c) => c.signature.length === 64).length;
    try {
      assert.equal(await healthy(), sent, "a worker answered");
      await poison("oom");
      assert.equal(failures.length, 1);
      assert.match(String((failures[0].error as { code?: string }).code), /ERR_WORKER_OUT_OF_MEMORY/);
      assert.equal(await healthy(), sent, "a new worker answered after the one that ran out of heap");
      await poison("crash");
      assert.equal(await healthy(), sent, "a new worker answered after the one that crashed");
      for (let i = 0; i < MAX_FAILURES; i++) await poison(i % 2 ? "crash" : "oom");
      assert.equal(pool.alive, 0, "a worker failing again and again is given up");
      assert.equal(failures.at(-1)?.givenUp, true);
      assert.equal(await healthy(), 0, "then every check is done here");
      assert.ok(pool.counts.failedBatches >= 2 + MAX_FAILURES);
    } finally {
      await pool.close();
    }
  });
});
