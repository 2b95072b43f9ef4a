/**
 * BatchingVerifier (protocol/identity/batching-verifier.ts) with lanes made
 * here: a turn's checks go to lanes in bounded batches, least busy first;
 * a lane that fails or answers with the wrong number of verdicts has its
 * batch checked locally, so no verdict is lost or invented; a lone check,
 * an oversized message and a malformed signature never make the hop.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchingVerifier,
  defaultVerifier,
  generateSeed,
  signerFromSeed,
  type VerifyItem,
  type VerifyLane,
} from "../../protocol/identity/index.ts";
import { utf8 } from "../../protocol/bytes.ts";

/** A lane that checks with the local verifier, recording its batches; `fail` makes it reject or miscount. */
function lane(mode: "ok" | "reject" | "short" = "ok") {
  const batches: number[] = [];
  const l: VerifyLane & { batches: number[] } = {
    alive: true,
    batches,
    async check(items: readonly VerifyItem[]) {
      batches.push(items.length);
      if (mode === "reject") throw new Error("this lane failed");
      const v = await defaultVerifier();
      const ok = await Promise.all(items.map((i) => v.verify(i.did, i.message, i.signature)));
      return mode === "short" ? ok.slice(1) : ok;
    },
  };
  return l;
}

async function cases(n: number) {
  const s = await signerFromSeed(generateSeed());
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const message = utf8(`op ${i}`);
    const signature = await s.sign(message);
    if (i % 3 === 1) signature[0] ^= 1; // forged
    return { did: s.did, message, signature, good: i % 3 !== 1 };
  }));
}

const all = (v: BatchingVerifier, cs: Awaited<ReturnType<typeof cases>>) =>
  Promise.all(cs.map((c) => v.verify(c.did, c.message, c.signature)));

describe("BatchingVerifier", () => {
  it("sends a turn's checks to the least busy lanes in bounded batches", async () => {
    const [l1, l2] = [lane(), lane()];
    const v = new BatchingVerifier({ local: await defaultVerifier(), lanes: [l1, l2], maxBatch: 40 });
    const cs = await cases(150);
    assert.deepEqual(await all(v, cs), cs.map((c) => c.good));
    assert.deepEqual([...l1.batches, ...l2.batches].sort((a, b) => b - a), [40, 40, 40, 30]);
    assert.ok(l1.batches.length === 2 && l2.batches.length === 2, "shared between the lanes");
    assert.equal(v.counts.lanes, 150);
  });

  it("bounds a batch's message bytes, and checks a message larger than a batch locally", async () => {
    const l = lane();
    const v = new BatchingVerifier({ local: await defaultVerifier(), lanes: [l], maxBatchBytes: 20 });
    const cs = await cases(6); // "op 0" … "op 5": 4 bytes each, so 5 a batch
    const s = await signerFromSeed(generateSeed());
    const big = utf8("x".repeat(21));
    const [verdicts, bigOk] = await Promise.all([all(v, cs), v.verify(s.did, big, await s.sign(big))]);
    assert.deepEqual(verdicts, cs.map((c) => c.good));
    assert.equal(bigOk, true);
    assert.deepEqual(l.batches, [5, 1]);
    assert.equal(v.counts.here, 1);
  });

  it("pipelines a burst, and checks here what arrives while every lane holds its share", async () => {
    // A lane that answers only when released, so what it holds is known at each step.
    const batches: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held: VerifyLane = {
      alive: true,
      async check(items) {
        batches.push(items.length);
        await released;
        const v = await defaultVerifier();
        return await Promise.all(items.map((i) => v.verify(i.did, i.message, i.signature)));
      },
    };
    const v = new BatchingVerifier({ local: await defaultVerifier(), lanes: [held], sendAt: 4, shareAbove: 8 });
    const cs = await cases(20);
    const ask = (from: number, to: number) => cs.slice(from, to).map((c) => v.verify(c.did, c.message, c.signature));
    const verdicts = ask(0, 4);
    assert.deepEqual(batches, [4], "the first slice went out before the turn ended");
    verdicts.push(...ask(4, 8));
    assert.deepEqual(batches, [4, 4]);
    verdicts.push(...ask(8, 20));
    assert.deepEqual(batches, [4, 4], "the lane holds its share: the rest is checked here");
    assert.equal(v.counts.here, 12);
    release();
    assert.deepEqual(await Promise.all(verdicts), cs.map((c) => c.good));
    assert.equal(v.counts.lanes, 8);
  });

  it("checks locally what a lane failed or miscounted: no verdict lost, none invented", async () => {
    for (const mode of ["reject", "short"] as const) {
      const bad = lane(mode);
      const v = new BatchingVerifier({ local: await defaultVerifier(), lanes: [bad] });
      const cs = await cases(30);
      assert.deepEqual(await all(v, cs), cs.map((c) => c.good), mode);
      assert.equal(v.counts.failedBatches, 1, mode);
      assert.equal(v.counts.here, 30, mode);
      assert.equal(v.counts.lanes, 0, mode);
    }
  });

  it("keeps a lone check, a malformed signature and a dead lane's work local; refuses a malformed DID", async () => {
    const l = lane();
    const v = new BatchingVerifier({ local: await defaultVerifier(), lanes: [l], inlineBelow: 2 });
    const [c] = await cases(1);
    assert.equal(await v.verify(c.did, c.message, c.signature), true);
    assert.equal(await v.verify(c.did, c.message, c.signature.slice(0, 63)), false);
    assert.deepEqual(l.batches, [], "nothing made the hop");
    assert.throws(() => v.verify("did:key:zNope", c.message, c.signature));
    const dead = { alive: false, check: () => Promise.reject(new Error("never called")) };
    const v2 = new BatchingVerifier({ local: await defaultVerifier(), lanes: [dead] });
    const cs = await cases(9);
    assert.deepEqual(await all(v2, cs), cs.map((x) => x.good));
    assert.equal(v2.counts.here, 9);
  });
});
