/**
 * Interoperability: the UCAN working group's 1.0.0 fixtures (tokens made by
 * other implementations) decode, hash to the published CIDs, and validate —
 * or fail with the published error name. And compatibility: the
 * 1.0.0-rc.1 tokens Weft minted before 1.0.0 was final still verify.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  decodeDelegation,
  decodeInvocation,
  delegate,
  invoke,
  MemoryProofStore,
  TAG_DELEGATION,
  TAG_INVOCATION,
  UcanError,
  Validator,
} from "../../protocol/ucan/index.ts";
import { fromBase64Url, fromHex } from "../../protocol/bytes.ts";
import { nobleSigner, signerFromSeed } from "../../protocol/identity/index.ts";

const load = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/ucan/${name}`, import.meta.url), "utf8"));
const bytesOf = (v: { "/": { bytes: string } }) => fromBase64Url(v["/"].bytes);
// After the delegation fixture's time bounds that are meant to be in the past (2025-10-20).
const clock = () => 1_760_958_515 + 3600;

describe("UCAN 1.0 delegation fixtures", () => {
  const fx = load("delegation.json");
  for (const c of fx.valid) {
    it(`decodes "${c.name}" with the published CID and fields`, async () => {
      const d = decodeDelegation(fromBase64Url(c.token));
      assert.equal(d.cid.toString(), c.cid);
      const p = c.envelope.payload;
      assert.deepEqual([d.iss, d.aud, d.sub, d.cmd, d.exp], [p.iss, p.aud, p.sub, p.cmd, p.exp]);
      assert.deepEqual(d.nonce, fromBase64Url(p.nonce));
      // Verifies, and our own signer reproduces the signature from the fixture's key.
      const validator = new Validator({ proofs: new MemoryProofStore(), clock });
      await validator.verifyDelegation(d.bytes);
      const bob = nobleSigner(fromBase64Url(fx.principals.bob).subarray(2));
      assert.equal(bob.did, d.iss);
      assert.deepEqual(await bob.sign(d.envelope.signedBytes), d.envelope.signature);
    });
  }
});

describe("UCAN 1.0 invocation fixtures", () => {
  const fx = load("invocation.json");
  // Each case names the time (Unix seconds) at which it is to be validated.
  const run = async (
    c: { invocation: { "/": { bytes: string } }; proofs: { "/": { bytes: string } }[]; time: number },
  ) => {
    const proofs = new MemoryProofStore();
    for (const p of c.proofs) {
      const bytes = bytesOf(p);
      try {
        proofs.put(decodeDelegation(bytes));
      } catch {
        // A proof whose envelope is broken is still what the store returns for its CID.
        const { cidOf } = await import("../../protocol/codec/cid.ts");
        proofs.put({ cid: cidOf(bytes), bytes });
      }
    }
    return await new Validator({ proofs, clock: () => c.time }).validate(bytesOf(c.invocation));
  };
  for (const c of fx.valid) {
    it(`accepts "${c.name}": ${c.description}`, async () => {
      const ok = await run(c);
      assert.equal(ok.proofs.length, c.proofs.length);
      assert.equal(decodeInvocation(bytesOf(c.invocation)).cid.toString(), ok.invocation.cid.toString());
    });
  }
  for (const c of fx.invalid) {
    it(`rejects "${c.name}" with ${c.error.name}: ${c.description}`, async () => {
      await assert.rejects(run(c), (e: unknown) => {
        assert.ok(e instanceof UcanError, String(e));
        assert.equal(e.name, c.error.name, e.message);
        return true;
      });
    });
  }
});

describe("UCAN 1.0.0-rc.1 tokens minted by Weft before 1.0.0", () => {
  const fx = load("weft-rc1.json");
  const token = (t: { token: string }) => fromBase64Url(t.token);

  it("still decode and verify: an rc.1 invocation on an rc.1 delegation", async () => {
    const d = decodeDelegation(token(fx.delegation));
    assert.equal(d.envelope.tag, "ucan/dlg@1.0.0-rc.1");
    assert.equal(d.cid.toString(), fx.delegation.cid);
    const { invocation, proofs } = await new Validator({ proofs: new MemoryProofStore().put(d), clock })
      .validate(token(fx.invocation));
    assert.equal(invocation.envelope.tag, "ucan/inv@1.0.0-rc.1");
    assert.equal(invocation.cid.toString(), fx.invocation.cid);
    assert.deepEqual(proofs.map((p) => p.cid.toString()), [fx.delegation.cid]);
  });

  it("still prove what is invoked today: a 1.0.0 invocation on an rc.1 delegation", async () => {
    const d = decodeDelegation(token(fx.delegation));
    const alice = await signerFromSeed(fromHex(fx.principals.alice.seed));
    const inv = await invoke({
      issuer: alice,
      subject: fx.principals.space.did,
      command: "/weft/task/create",
      args: { title: "rc.1" },
      proofs: [d],
      expiration: null,
    });
    assert.equal(inv.envelope.tag, TAG_INVOCATION);
    await new Validator({ proofs: new MemoryProofStore().put(d), clock }).validate(inv.bytes);
  });

  it("are no longer minted: new tokens carry the final tags", async () => {
    const space = await signerFromSeed(fromHex(fx.principals.space.seed));
    const d = await delegate({
      issuer: space,
      audience: fx.principals.alice.did,
      subject: space.did,
      command: "/weft/task",
      expiration: null,
    });
    assert.equal(d.envelope.tag, TAG_DELEGATION);
    assert.equal(TAG_DELEGATION, "ucan/dlg@1.0.0");
    assert.equal(TAG_INVOCATION, "ucan/inv@1.0.0");
  });
});
