/**
 * Property tests: delegation only ever narrows authority, checked against
 * an independent oracle; and no byte string makes decoding or validation
 * throw anything but a typed UcanError.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import process from "node:process";
import { invoke, type Ipld, MemoryProofStore, UcanError, Validator } from "../../protocol/ucan/index.ts";
import { chain, signers } from "../helpers/principals.ts";

const NOW = 1_800_000_000;
const RUNS = Number(process.env.WEFT_PROPERTY_RUNS ?? 60);

// Commands over a tiny alphabet so that prefixes and near-misses are common.
const segment = fc.constantFrom("a", "b", "ab");
const command = fc.array(segment, { minLength: 0, maxLength: 3 }).map((s) => "/" + s.join("/"));

// A policy statement with a hand-written oracle of what it means.
type Oracle = (args: { a: number; b: string }) => boolean;
const statement: fc.Arbitrary<[Ipld, Oracle]> = fc.oneof(
  fc.integer({ min: -3, max: 3 }).map((k) => [["==", ".a", k], (x: { a: number }) => x.a === k] as [Ipld, Oracle]),
  fc.integer({ min: -3, max: 3 }).map((k) => [["<", ".a", k], (x: { a: number }) => x.a < k] as [Ipld, Oracle]),
  fc.integer({ min: -3, max: 3 }).map((k) => [[">=", ".a", k], (x: { a: number }) => x.a >= k] as [Ipld, Oracle]),
  fc.constantFrom("", "x", "xy", "y").map((p) =>
    [["like", ".b", p + "*"], (x: { b: string }) => x.b.startsWith(p)] as [Ipld, Oracle]
  ),
  fc.constantFrom("x", "y").map((p) =>
    [["not", ["like", ".b", "*" + p]], (x: { b: string }) => !x.b.endsWith(p)] as [Ipld, Oracle]
  ),
);
const policy = fc.array(statement, { maxLength: 2 });

function covers(parent: string, child: string): boolean {
  if (parent === "/") return true;
  const p = parent.split("/");
  const c = child.split("/");
  return p.length <= c.length && p.every((seg, i) => seg === c[i]);
}

describe("delegation never grants more than its proofs", () => {
  it("an invocation is valid exactly when every link covers it and every policy holds", async () => {
    const principals = await signers(4);
    const [space, , , invoker] = principals;
    const seen = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(command, policy), { minLength: 1, maxLength: 3 }),
        command,
        fc.record({ a: fc.integer({ min: -4, max: 4 }), b: fc.constantFrom("", "x", "xy", "yx", "y") }),
        async (links, invoked, args) => {
          const path = [...principals.slice(0, links.length), invoker];
          const proofs = await chain(
            path,
            links.map(([cmd, pol]) => ({ cmd, pol: pol.map(([s]) => s) })),
          );
          const validator = new Validator({ proofs: new MemoryProofStore().put(...proofs), clock: () => NOW });
          const inv = await invoke({
            issuer: invoker,
            subject: space.did,
            command: invoked,
            args,
            proofs,
            expiration: null,
          });
          const cmds = [...links.map(([c]) => c), invoked];
          const oracle = cmds.every((c, i) => i === 0 || covers(cmds[i - 1], c)) &&
            links.every(([, pol]) => pol.every(([, holds]) => holds(args)));
          let valid = true;
          try {
            await validator.validate(inv);
          } catch (e) {
            assert.ok(e instanceof UcanError, String(e));
            assert.ok(e.name === "InvalidClaim" || e.name === "MatchError", e.message);
            valid = false;
          }
          assert.equal(valid, oracle);
          seen[valid ? "valid" : "invalid"]++;
        },
      ),
      {
        numRuns: RUNS,
        // Random chains are mostly invalid; one known-valid and one known-invalid case run every time.
        examples: [
          [[["/a", []], ["/a/b", [[["<", ".a", 3], () => true]]]], "/a/b/ab", { a: 0, b: "x" }],
          [[["/b", []]], "/a", { a: 0, b: "" }],
        ],
      },
    );
    assert.ok(seen.valid > 0 && seen.invalid > 0, `both outcomes exercised: ${JSON.stringify(seen)}`);
  });
});

describe("hostile bytes", () => {
  it("random bytes and mutated tokens only ever fail with a UcanError", async () => {
    const [space, a] = await signers(2);
    const proofs = await chain([space, a], [{}]);
    const inv = await invoke({
      issuer: a,
      subject: space.did,
      command: "/x",
      args: { k: [1, "v"] },
      proofs,
      expiration: null,
    });
    const validator = new Validator({ proofs: new MemoryProofStore().put(...proofs), clock: () => NOW });
    const mutated = fc.array(fc.tuple(fc.nat(inv.bytes.length - 1), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    }).map((edits) => {
      const out = inv.bytes.slice();
      for (const [at, x] of edits) out[at] ^= x;
      return out;
      // Two edits of one byte can cancel out: what is left unchanged is the valid token, not a mutation.
    }).filter((out) => out.some((b, i) => b !== inv.bytes[i]));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), async (bytes) => {
        try {
          await validator.validate(bytes);
          assert.fail("a mutated token was accepted");
        } catch (e) {
          assert.ok(e instanceof UcanError, `untyped: ${e}`);
        }
      }),
      { numRuns: RUNS * 10 },
    );
  });
});
