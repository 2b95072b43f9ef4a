import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defaultVerifier,
  generateSeed,
  REMEMBERED_DIGEST_BYTES,
  rememberedDigest,
  RememberingVerifier,
  signedDigest,
  signerFromSeed,
  type Verifier,
} from "../../protocol/identity/index.ts";
import { utf8 } from "../../protocol/bytes.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Validator } from "../../protocol/ucan/validator.ts";
import { MemoryProofStore } from "../../protocol/ucan/stores.ts";

/** The inner verifier, counting what reaches it. */
async function counted(): Promise<Verifier & { calls: number }> {
  const inner = await defaultVerifier();
  const v = {
    calls: 0,
    verify(did: string, m: Uint8Array, s: Uint8Array) {
      v.calls++;
      return inner.verify(did, m, s);
    },
  };
  return v;
}

describe("RememberingVerifier", () => {
  it("verifies a signature once, then answers from memory, also after export and import", async () => {
    const alice = await signerFromSeed(generateSeed());
    const m = utf8("hello");
    const sig = await alice.sign(m);
    const inner = await counted();
    const v = new RememberingVerifier(inner);
    assert.equal(await v.verify(alice.did, m, sig), true);
    assert.equal(await v.verify(alice.did, m, sig), true);
    assert.equal(inner.calls, 1);
    assert.deepEqual(v.counts, { checked: 1, remembered: 1 });
    const again = new RememberingVerifier(inner, v.export());
    assert.equal(await again.verify(alice.did, m, sig), true);
    assert.equal(inner.calls, 1, "the imported entry answered it");
  });

  it("checks anew a remembered signature over another message or by another signer", async () => {
    const alice = await signerFromSeed(generateSeed());
    const bob = await signerFromSeed(generateSeed());
    const m = utf8("pay bob 1");
    const sig = await alice.sign(m);
    const inner = await counted();
    const v = new RememberingVerifier(inner);
    assert.equal(await v.verify(alice.did, m, sig), true);
    assert.equal(await v.verify(alice.did, utf8("pay bob 9"), sig), false, "a lifted signature is checked, and fails");
    assert.equal(await v.verify(bob.did, m, sig), false);
    assert.equal(inner.calls, 3);
  });

  it("never remembers a bad signature", async () => {
    const alice = await signerFromSeed(generateSeed());
    const inner = await counted();
    const v = new RememberingVerifier(inner);
    const bad = new Uint8Array(64);
    assert.equal(await v.verify(alice.did, utf8("x"), bad), false);
    assert.equal(await v.verify(alice.did, utf8("x"), bad), false);
    assert.equal(inner.calls, 2);
    assert.equal(v.size, 0);
    assert.equal(v.version, 0);
  });

  it("keys a token's signature on its CID, and still refuses a lifted one", async () => {
    const alice = await signerFromSeed(generateSeed());
    const inner = await counted();
    const v = new RememberingVerifier(inner);
    const validator = new Validator({ proofs: new MemoryProofStore(), verifier: v });
    const made = await invoke({
      issuer: alice,
      subject: alice.did,
      command: "/weft/task/create",
      args: { title: "real" },
      proofs: [],
      expiration: null,
    });
    await validator.verifyInvocationSignature(made.bytes);
    assert.equal(inner.calls, 1);
    const again = new Validator({
      proofs: new MemoryProofStore(),
      verifier: new RememberingVerifier(inner, v.export()),
    });
    await again.verifyInvocationSignature(made.bytes);
    assert.equal(inner.calls, 1, "answered from memory by its CID");
    const lifted = await invoke({
      issuer: { ...alice, sign: () => Promise.resolve(made.envelope.signature) },
      subject: alice.did,
      command: "/weft/task/create",
      args: { title: "forged" },
      proofs: [],
      expiration: null,
    });
    await assert.rejects(again.verifyInvocationSignature(lifted.bytes), /signature does not verify/);
    assert.equal(inner.calls, 2);
  });

  it("keeps at most its limit, forgetting the oldest", async () => {
    const alice = await signerFromSeed(generateSeed());
    const inner = await counted();
    const v = new RememberingVerifier(inner, undefined, 2);
    const msgs = [utf8("a"), utf8("b"), utf8("c")];
    for (const m of msgs) assert.equal(await v.verify(alice.did, m, await alice.sign(m)), true);
    assert.equal(v.size, 2);
    const exported = v.export();
    assert.equal(exported.length, 2 * REMEMBERED_DIGEST_BYTES);
    const b = rememberedDigest(alice.did, signedDigest(msgs[1], await alice.sign(msgs[1])));
    assert.deepEqual(exported.subarray(0, REMEMBERED_DIGEST_BYTES), b, "the oldest (a) went first");
  });
});
