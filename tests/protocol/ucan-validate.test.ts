import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Commands,
  decodeDelegation,
  decodeInvocation,
  delegate,
  invoke,
  MemoryProofStore,
  MemoryRevocationStore,
  revoke,
  TAG_INVOCATION,
  UcanError,
  validateRevocation,
  Validator,
  VerificationCache,
} from "../../protocol/ucan/index.ts";
import { chain, signers } from "../helpers/principals.ts";
import { encode } from "../../protocol/codec/dag-cbor.ts";
import { defaultVerifier } from "../../protocol/identity/index.ts";

const NOW = 1_800_000_000;
const clock = () => NOW;

function validatorFor(...delegations: { cid: import("multiformats/cid").CID; bytes: Uint8Array }[]) {
  const proofs = new MemoryProofStore().put(...delegations);
  const revocations = new MemoryRevocationStore();
  return { validator: new Validator({ proofs, revocations, clock }), proofs, revocations };
}

async function rejects(p: Promise<unknown>, name: string, link?: number): Promise<UcanError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UcanError, `expected a UcanError, got ${e}`);
    assert.equal(e.name, name, e.message);
    if (link !== undefined) assert.equal(e.link, link, e.message);
    return e;
  }
  assert.fail(`expected ${name}`);
}

describe("delegation and invocation tokens", () => {
  it("round-trip through bytes with stable CIDs", async () => {
    const [alice, bob] = await signers(2);
    const d = await delegate({
      issuer: alice,
      audience: bob.did,
      subject: alice.did,
      command: "/weft/task",
      policy: [["==", ".label", "docs"]],
      expiration: NOW + 60,
      notBefore: NOW - 60,
      meta: { note: "hi" },
    });
    const again = decodeDelegation(d.bytes);
    assert.equal(again.cid.toString(), d.cid.toString());
    assert.deepEqual(
      [again.iss, again.aud, again.sub, again.cmd, again.exp, again.nbf],
      [alice.did, bob.did, alice.did, "/weft/task", NOW + 60, NOW - 60],
    );
    assert.deepEqual(again.meta, { note: "hi" });
    assert.equal(again.nonce.length, 12);
    const inv = await invoke({
      issuer: bob,
      subject: alice.did,
      command: "/weft/task/create",
      args: { label: "docs", n: 3 },
      proofs: [d],
      expiration: NOW + 30,
    });
    const back = decodeInvocation(inv.bytes);
    assert.equal(back.cid.toString(), inv.cid.toString());
    assert.deepEqual(back.args, { label: "docs", n: 3 });
    assert.equal(back.prf[0].toString(), d.cid.toString());
  });

  it("issues distinct nonces, so equal delegations have distinct CIDs", async () => {
    const [a, b] = await signers(2);
    const opts = { issuer: a, audience: b.did, subject: a.did, command: "/", expiration: null };
    const [x, y] = await Promise.all([delegate(opts), delegate(opts)]);
    assert.notEqual(x.cid.toString(), y.cid.toString());
  });

  it("refuses to issue an invalid delegation", async () => {
    const [a, b] = await signers(2);
    const base = { issuer: a, audience: b.did, subject: a.did, expiration: null };
    await rejects(delegate({ ...base, command: "/Weft" }), "InvalidCommand");
    await rejects(delegate({ ...base, command: "/a/" }), "InvalidCommand");
    await rejects(delegate({ ...base, command: "/", policy: [["~=", ".a", 1]] }), "InvalidPolicy");
    await rejects(delegate({ ...base, command: "/", audience: "did:web:x" }), "InvalidPayload");
    await rejects(delegate({ ...base, command: "/", expiration: 1.5 }), "InvalidPayload");
    await rejects(delegate({ ...base, command: "/", expiration: 10, notBefore: 20 }), "InvalidPayload");
  });
});

describe("invocation validation", () => {
  it("accepts a self-issued invocation and a 3-link chain", async () => {
    const [space, a, b, c] = await signers(4);
    const proofs = await chain([space, a, b, c], [{ cmd: "/weft" }, { cmd: "/weft/task" }, {
      cmd: "/weft/task/claim",
    }]);
    const { validator } = validatorFor(...proofs);
    const self = await invoke({
      issuer: space,
      subject: space.did,
      command: "/x",
      args: {},
      proofs: [],
      expiration: null,
    });
    assert.equal((await validator.validate(self)).proofs.length, 0);
    const inv = await invoke({
      issuer: c,
      subject: space.did,
      command: Commands.taskRenew,
      args: { task: "t1" },
      proofs,
      expiration: NOW + 10,
    });
    const ok = await validator.validate(inv.bytes);
    assert.equal(ok.proofs.length, 3);
    assert.equal(ok.invocation.iss, c.did);
  });

  it("InvalidSignature: a tampered invocation or proof", async () => {
    const [space, a] = await signers(2);
    const [d] = await chain([space, a], [{}]);
    const inv = await invoke({ issuer: a, subject: space.did, command: "/x", args: {}, proofs: [d], expiration: null });
    // Flip one nonce byte: still canonical and well-shaped, but the signature no longer covers it.
    const flip = (bytes: Uint8Array, nonce: Uint8Array) => {
      const out = bytes.slice();
      const at = indexOf(out, nonce);
      out[at] ^= 0xff;
      return out;
    };
    const { validator } = validatorFor(d);
    await rejects(validator.validate(flip(inv.bytes, inv.nonce)), "InvalidSignature", -1);
    const badProof = flip(d.bytes, d.nonce);
    const forged = await invoke({
      issuer: a,
      subject: space.did,
      command: "/x",
      args: {},
      proofs: [decodeDelegation(badProof).cid],
      expiration: null,
    });
    const v2 = new Validator({ proofs: { get: () => badProof }, clock });
    await rejects(v2.validate(forged), "InvalidSignature", 0);
  });

  it("Expired and TooEarly, for the invocation and for any link", async () => {
    const [space, a, b] = await signers(3);
    const expired = await chain([space, a, b], [{}, { exp: NOW - 1 }]);
    const early = await chain([space, a, b], [{ nbf: NOW + 5 }, {}]);
    const exact = await chain([space, a, b], [{ exp: NOW }, { nbf: NOW }]);
    const { validator } = validatorFor(...expired, ...early, ...exact);
    const run = (proofs: typeof expired, exp: number | null = null) =>
      invoke({ issuer: b, subject: space.did, command: "/x", args: {}, proofs, expiration: exp }).then((i) =>
        validator.validate(i)
      );
    await rejects(run(expired), "Expired", 1);
    await rejects(run(early), "TooEarly", 0);
    await rejects(run(exact, NOW - 1), "Expired", -1);
    assert.ok(await run(exact, NOW), "exp and nbf are inclusive bounds");
  });

  it("InvalidAudience: broken linkage and a stolen chain", async () => {
    const [space, a, b, mallory] = await signers(4);
    const d0 = (await chain([space, a], [{}]))[0];
    const d1 = (await chain([mallory, b], [{ sub: space.did }]))[0];
    const { validator } = validatorFor(d0, d1);
    const broken = await invoke({
      issuer: b,
      subject: space.did,
      command: "/x",
      args: {},
      proofs: [d0, d1],
      expiration: null,
    });
    await rejects(validator.validate(broken), "InvalidAudience", 1);
    const stolen = await invoke({
      issuer: mallory,
      subject: space.did,
      command: "/x",
      args: {},
      proofs: [d0],
      expiration: null,
    });
    await rejects(validator.validate(stolen), "InvalidAudience", 0);
  });

  it("InvalidAudience: addressed to another executor", async () => {
    const [space, other] = await signers(2);
    const inv = await invoke({
      issuer: space,
      subject: space.did,
      audience: other.did,
      command: "/x",
      args: {},
      proofs: [],
      expiration: null,
    });
    const { validator } = validatorFor();
    await rejects(validator.validate(inv, { audience: space.did }), "InvalidAudience", -1);
    assert.ok(await validator.validate(inv, { audience: other.did }));
  });

  it("InvalidSubject: a chain about another subject", async () => {
    const [space, other, a] = await signers(3);
    const [d] = await chain([other, a], [{}]);
    const { validator } = validatorFor(d);
    const inv = await invoke({ issuer: a, subject: space.did, command: "/x", args: {}, proofs: [d], expiration: null });
    await rejects(validator.validate(inv), "InvalidSubject", 0);
  });

  it("powerline delegations inherit the subject, but cannot be the root", async () => {
    const [space, a, b] = await signers(3);
    const ok = await chain([space, a, b], [{}, { sub: null }]);
    const rootPowerline = await chain([a, b], [{ sub: null }]);
    const { validator } = validatorFor(...ok, ...rootPowerline);
    const inv = await invoke({ issuer: b, subject: space.did, command: "/x", args: {}, proofs: ok, expiration: null });
    assert.ok(await validator.validate(inv));
    const bad = await invoke({
      issuer: b,
      subject: a.did,
      command: "/x",
      args: {},
      proofs: rootPowerline,
      expiration: null,
    });
    await rejects(validator.validate(bad), "InvalidClaim", 0);
  });

  it("InvalidClaim: no proof, a root not issued by the subject, a command not covered", async () => {
    const [space, a, b] = await signers(3);
    const notRoot = await chain([a, b], [{ sub: space.did }]);
    const narrow = await chain([space, a, b], [{ cmd: "/weft/task" }, { cmd: "/weft/task/comment" }]);
    const widen = await chain([space, a, b], [{ cmd: "/weft/task/comment" }, { cmd: "/weft/task" }]);
    const { validator } = validatorFor(...notRoot, ...narrow, ...widen);
    const inv = (proofs: typeof narrow, command: string, issuer = b) =>
      invoke({ issuer, subject: space.did, command, args: {}, proofs, expiration: null });
    await rejects(validator.validate(await inv([], "/x", a)), "InvalidClaim", -1);
    await rejects(validator.validate(await inv(notRoot, "/x")), "InvalidClaim", 0);
    await rejects(validator.validate(await inv(narrow, "/weft/task/claim")), "InvalidClaim", 1);
    await rejects(validator.validate(await inv(narrow, "/weft/taskforce")), "InvalidClaim", 1);
    await rejects(validator.validate(await inv(widen, "/weft/task/claim")), "InvalidClaim", 0);
    assert.ok(await validator.validate(await inv(narrow, "/weft/task/comment")));
  });

  it("UnavailableProof names the missing link", async () => {
    const [space, a, b] = await signers(3);
    const proofs = await chain([space, a, b], [{}, {}]);
    const { validator } = validatorFor(proofs[0]);
    const inv = await invoke({ issuer: b, subject: space.did, command: "/x", args: {}, proofs, expiration: null });
    const e = await rejects(validator.validate(inv), "UnavailableProof", 1);
    assert.equal(e.cid, proofs[1].cid.toString());
    // Proofs passed with the call are used.
    assert.ok(await validator.validate(inv, { proofs: new MemoryProofStore().put(proofs[1]) }));
  });

  it("MatchError: arguments outside any link's policy", async () => {
    const [space, a, b] = await signers(3);
    const proofs = await chain([space, a, b], [
      { pol: [["like", ".label", "docs*"]] },
      { pol: [["<=", ".budget", 10]] },
    ]);
    const { validator } = validatorFor(...proofs);
    const inv = (args: Record<string, import("../../protocol/ucan/index.ts").Ipld>) =>
      invoke({ issuer: b, subject: space.did, command: "/x", args, proofs, expiration: null });
    assert.ok(await validator.validate(await inv({ label: "docs/readme", budget: 10 })));
    await rejects(validator.validate(await inv({ label: "src", budget: 1 })), "MatchError", 0);
    await rejects(validator.validate(await inv({ label: "docs", budget: 11 })), "MatchError", 1);
    await rejects(validator.validate(await inv({ label: "docs" })), "MatchError", 1);
  });

  it("caches verified tokens by CID", async () => {
    const [space, a, b, c] = await signers(4);
    const proofs = await chain([space, a, b, c], [{}, {}, {}]);
    const cache = new VerificationCache();
    const validator = new Validator({ proofs: new MemoryProofStore().put(...proofs), cache, clock });
    const inv = await invoke({ issuer: c, subject: space.did, command: "/x", args: {}, proofs, expiration: null });
    await validator.validate(inv);
    assert.equal(cache.size, 4);
    const hits = cache.hits;
    const inv2 = await invoke({ issuer: c, subject: space.did, command: "/y", args: {}, proofs, expiration: null });
    await validator.validate(inv2);
    assert.equal(cache.hits - hits, 3, "the three delegations come from the cache");
  });

  it("knows a token seen before by the hash of its bytes, never by what it says of itself", async () => {
    const [space, a] = await signers(2);
    const [d] = await chain([space, a], [{}]);
    const real = await defaultVerifier();
    let verifies = 0;
    const counting = {
      verify: (did: string, m: Uint8Array, s: Uint8Array) => {
        verifies++;
        return real.verify(did, m, s);
      },
    };
    const validator = new Validator({ proofs: new MemoryProofStore().put(d), verifier: counting, clock });
    const inv = await invoke({ issuer: a, subject: space.did, command: "/x", args: {}, proofs: [d], expiration: null });
    await validator.validate(inv.bytes);
    const after = verifies;
    await validator.validate(inv.bytes);
    assert.equal(verifies, after, "the same bytes again: no signature check");
    // A delegation in the cache is not taken for an invocation because its bytes are known.
    await rejects(validator.verifyInvocationSignature(d.bytes), "MalformedToken");
    // One flipped signature bit is other bytes, another CID: checked afresh, and refused.
    const forged = inv.bytes.slice();
    forged[10] ^= 1;
    await rejects(validator.validate(forged), "InvalidSignature");
  });
});

describe("revocation", () => {
  it("an issuer at or above a delegation revokes it; every invocation using it then fails", async () => {
    const [space, a, b, c] = await signers(4);
    const proofs = await chain([space, a, b, c], [{}, {}, {}]);
    const { validator, revocations } = validatorFor(...proofs);
    const inv = await invoke({ issuer: c, subject: space.did, command: "/x", args: {}, proofs, expiration: null });
    assert.ok(await validator.validate(inv));
    // a (issuer of link 1) revokes link 2 (b → c).
    const record = await revoke(a, proofs);
    const rev = await validateRevocation(validator, record.bytes);
    assert.equal(rev.revoked.toString(), proofs[2].cid.toString());
    revocations.add(rev.revoked);
    await rejects(validator.validate(inv), "Revoked", 2);
    const fresh = await invoke({ issuer: c, subject: space.did, command: "/y", args: {}, proofs, expiration: null });
    await rejects(validator.validate(fresh), "Revoked", 2);
    // A chain that avoids the revoked link still works.
    const [alt] = await chain([space, c], [{}]);
    const ok = await invoke({
      issuer: c,
      subject: space.did,
      command: "/x",
      args: {},
      proofs: [alt],
      expiration: null,
    });
    assert.ok(await validator.validate(ok, { proofs: new MemoryProofStore().put(alt) }));
  });

  it("refuses revocations by principals below the delegation or outside the chain", async () => {
    const [space, a, b, c, stranger] = await signers(5);
    const proofs = await chain([space, a, b, c], [{}, {}, {}]);
    const { validator } = validatorFor(...proofs);
    // c is only the audience of the revoked link.
    await rejects(validateRevocation(validator, (await revoke(c, proofs)).bytes), "InvalidRevocation");
    await rejects(validateRevocation(validator, (await revoke(stranger, proofs)).bytes), "InvalidRevocation");
    // b may not revoke link 1 (a → b), which is above it.
    await rejects(validateRevocation(validator, (await revoke(b, proofs.slice(0, 2))).bytes), "InvalidRevocation");
    // A path that does not start at the subject.
    await rejects(validateRevocation(validator, (await revoke(a, proofs.slice(1))).bytes), "InvalidRevocation");
  });

  it("is idempotent: the same revoker revoking twice yields one CID", async () => {
    const [space, a] = await signers(2);
    const proofs = await chain([space, a], [{}]);
    const [x, y] = [await revoke(space, proofs), await revoke(space, proofs)];
    assert.equal(x.cid.toString(), y.cid.toString());
  });
});

describe("hostile tokens", () => {
  it("each is rejected with a typed UcanError", async () => {
    const [space, a] = await signers(2);
    const [d] = await chain([space, a], [{}]);
    const { validator } = validatorFor(d);
    const inv = await invoke({
      issuer: a,
      subject: space.did,
      command: "/x",
      args: { n: 1 },
      proofs: [d],
      expiration: null,
    });
    const [, sigPayload] = (await import("@ipld/dag-cbor")).decode<[Uint8Array, Record<string, any>]>(inv.bytes);
    const payload = sigPayload[TAG_INVOCATION];
    const resign = async (p: Record<string, unknown>, tag = TAG_INVOCATION, h = sigPayload.h) => {
      const signed = encode({ h, [tag]: p });
      return encode([await a.sign(signed), { h, [tag]: p }]);
    };
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 200; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    const cases: Array<[string, Uint8Array | Promise<Uint8Array>, string]> = [
      ["truncated", inv.bytes.subarray(0, inv.bytes.length - 3), "MalformedToken"],
      ["trailing bytes", new Uint8Array([...inv.bytes, 0]), "MalformedToken"],
      ["empty", new Uint8Array(), "MalformedToken"],
      ["not an array", encode({ a: 1 }), "MalformedToken"],
      ["three elements", encode([new Uint8Array(64), {}, 1]), "MalformedToken"],
      ["oversized", encode([new Uint8Array(64), { big: new Uint8Array(70_000) }]), "MalformedToken"],
      ["deeply nested args", resign({ ...payload, args: { deep } }), "MalformedToken"],
      ["wrong varsig", resign(payload, undefined, new Uint8Array([0x34, 0x01, 0x12, 0x00, 0x71])), "UnsupportedVarsig"],
      ["unknown type tag", resign(payload, "ucan/xyz@1.0.0"), "MalformedToken"],
      ["delegation where an invocation is expected", d.bytes, "MalformedToken"],
      ["unknown field", resign({ ...payload, admin: true }), "InvalidPayload"],
      [
        "wrong key type",
        resign({ ...payload, iss: "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme" }),
        "InvalidPayload",
      ],
      ["missing exp", resign((({ exp: _e, ...rest }) => rest)(payload)), "InvalidPayload"],
      ["float expiry", resign({ ...payload, exp: 1.5 }), "InvalidPayload"],
      ["bigint expiry", resign({ ...payload, exp: 2n ** 60n }), "InvalidPayload"],
      ["prf not links", resign({ ...payload, prf: ["bafy"] }), "InvalidPayload"],
      ["args not a map", resign({ ...payload, args: [1] }), "InvalidPayload"],
      ["bad command", resign({ ...payload, cmd: "x" }), "InvalidCommand"],
      ["short signature", encode([new Uint8Array(10), sigPayload]), "InvalidSignature"],
      [
        "signature by another key",
        (async () => {
          const signed = encode(sigPayload);
          return encode([await space.sign(signed), sigPayload]);
        })(),
        "InvalidSignature",
      ],
      ["duplicate map keys", withDuplicateKey(inv.bytes), "MalformedToken"],
      ["non-canonical key order", withSwappedKeys(inv.bytes), "MalformedToken"],
      ["non-minimal integer", nonMinimal(inv.bytes), "MalformedToken"],
    ];
    for (const [name, bytes, expected] of cases) {
      await rejects(validator.validate(await bytes), expected).catch((e) => {
        throw new Error(`${name}: ${e.message}`);
      });
    }
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("not found");
}

/** Rename the "sub" key to "iss" (same length): a map with "iss" twice. */
function withDuplicateKey(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(new TextEncoder().encode("iss"), indexOf(out, new TextEncoder().encode("csub")) + 1);
  return out;
}

/** Swap "cmd" and "exp" keys' spelling order: same bytes, out of canonical order. */
function withSwappedKeys(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(new TextEncoder().encode("zzz"), indexOf(out, new TextEncoder().encode("ccmd")) + 1);
  return out;
}

/** Re-encode the signature's byte-string length (64) in a 2-byte head. */
function nonMinimal(bytes: Uint8Array): Uint8Array {
  return new Uint8Array([0x82, 0x59, 0x00, 0x40, ...bytes.subarray(3)]);
}
