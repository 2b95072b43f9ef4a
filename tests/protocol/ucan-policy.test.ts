import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  evaluate,
  type Ipld,
  matchPolicy,
  parsePolicy,
  parseSelector,
  resolve,
  UcanError,
} from "../../protocol/ucan/index.ts";
import { cidOf } from "../../protocol/codec/cid.ts";
import { readFileSync } from "node:fs";

const holds = (pol: Ipld[], args: Ipld) => matchPolicy(parsePolicy(pol), args).ok;

describe("selectors", () => {
  const args: Ipld = {
    from: "alice@example.com",
    to: ["bob@example.com", "carol@not.example.com", "dan@example.com"],
    "odd key": { ".": 1 },
    bytes: new Uint8Array([1, 2, 140]),
    nested: { a: { b: [10, 20] } },
  };
  const cases: Array<[string, Ipld | "fail"]> = [
    [".", args],
    [".from", "alice@example.com"],
    [".to[1]", "carol@not.example.com"],
    [".to[-1]", "dan@example.com"],
    [".to[0:2]", ["bob@example.com", "carol@not.example.com"]],
    [".to[:-2]", ["bob@example.com"]],
    [".to[5:]", []],
    ['.["odd key"]["."]', 1],
    ['.["odd key"].["."]', 1],
    [".bytes[2]", 140],
    [".nested.a.b[1]", 20],
    [".nested.a[]", [[10, 20]]],
    [".to[]", args.to as Ipld],
    [".missing", null],
    [".missing.deeper", "fail"],
    [".missing?.deeper?", null],
    [".to[9]", "fail"],
    [".to[9]?", null],
    [".from.x", "fail"],
    [".from.x?", null],
    [".from[0:5]", "alice"],
  ];
  for (const [sel, want] of cases) {
    it(`${sel} resolves to ${want === "fail" ? "nothing" : JSON.stringify(want, (_k, v) => v instanceof Uint8Array ? [...v] : v)}`, () => {
      const r = resolve(parseSelector(sel), args);
      if (want === "fail") assert.equal(r.ok, false);
      else assert.deepEqual(r, { ok: true, value: want });
    });
  }
  for (
    const bad of ["", "foo", "..a", ".a..b", ".[", ".[x]", ".a[1:2:3]", '.["unterminated]', ".[:]", ". a", ".1abc"]
  ) {
    it(`rejects the selector ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parsePolicy([["==", bad, 1]]),
        (e: unknown) => e instanceof UcanError && e.name === "InvalidPolicy",
      );
    });
  }
});

describe("policy statements", () => {
  it("compares numbers by value across integers, floats and bigints", () => {
    assert.ok(holds([["==", ".n", 1]], { n: 1 }));
    assert.ok(holds([["==", ".n", 2 ** 60]], { n: 2n ** 60n }));
    assert.ok(holds([["<", ".n", 1.5]], { n: 1 }));
    assert.ok(holds([[">", ".n", 2 ** 53]], { n: 2n ** 60n }));
    assert.ok(!holds([["<", ".n", 5]], { n: "4" }), "strings are not numbers");
  });

  it("deep-compares lists, maps (in any key order), bytes and links", () => {
    const cid = cidOf(new Uint8Array([1]));
    assert.ok(
      holds([["==", ".", { a: [1, { b: new Uint8Array([7]) }], c: cid }]], {
        c: cid,
        a: [1, { b: new Uint8Array([7]) }],
      }),
    );
    assert.ok(!holds([["==", ".c", cid.toString()]], { c: cid }), "a link is not its string");
    assert.ok(!holds([["==", ".a", [1]]], { a: [1, 2] }));
    assert.ok(!holds([["==", ".a", new Uint8Array([1])]], { a: [1] }));
  });

  it("like: * only, \\* literal, anchored, whitespace significant", () => {
    const pat = "Alice\\*, Bob*, Carol.";
    for (
      const ok of [
        "Alice*, Bob, Carol.",
        "Alice*, Bob, Dan, Erin, Carol.",
        "Alice*, Bob  , Carol.",
        "Alice*, Bob*, Carol.",
      ]
    ) {
      assert.ok(holds([["like", ".s", pat]], { s: ok }), ok);
    }
    for (
      const no of [
        "Alice*, Bob, Carol",
        "Alice*, Bob*, Carol!",
        "Alice, Bob, Carol.",
        "Alice Cooper, Bob, Carol.",
        " Alice*, Bob, Carol. ",
      ]
    ) {
      assert.ok(!holds([["like", ".s", pat]], { s: no }), no);
    }
    assert.ok(holds([["like", ".s", "*"]], { s: "" }));
    assert.ok(holds([["like", ".s", "a*b*c"]], { s: "aXbYbc" }));
    assert.ok(!holds([["like", ".s", "a*b*c"]], { s: "acb" }));
    assert.ok(!holds([["like", ".s", "*"]], { s: 5 }), "like on a non-string is false");
    assert.throws(() => parsePolicy([["like", ".s", "oops\\"]]), /lone/);
  });

  it("connectives: empty and/or are true; not inverts", () => {
    assert.ok(holds([["and", []]], {}));
    assert.ok(holds([["or", []]], {}));
    assert.ok(holds([["not", ["==", ".a", 2]]], { a: 1 }));
    assert.ok(holds([["or", [["==", ".a", 2], ["==", ".a", 1]]]], { a: 1 }));
    assert.ok(!holds([["and", [["==", ".a", 2], ["==", ".a", 1]]]], { a: 1 }));
  });

  it("fails closed: not of an unresolvable selector is not true", () => {
    assert.ok(!holds([["not", ["==", ".a.b", 1]]], { a: null }));
    assert.ok(!holds([["!=", ".a.b", 1]], { a: null }));
    assert.ok(!holds([["not", ["not", ["==", ".a.b", 1]]]], { a: null }));
    // A missing key is null (spec), so its negation holds.
    assert.ok(holds([["not", ["==", ".a", 1]]], {}));
  });

  it("quantifiers over lists and map values; false on non-collections", () => {
    const args: Ipld = { a: [{ b: 1 }, { b: 2 }, { z: [7] }], m: { x: 1, y: 2 } };
    assert.ok(holds([["any", ".a", ["==", ".b", 2]]], args));
    assert.ok(!holds([["all", ".a", [">", ".b", 0]]], args));
    assert.ok(holds([["all", ".m", [">", ".", 0]]], args));
    assert.ok(!holds([["any", ".m", [">", ".", 5]]], args));
    assert.ok(!holds([["all", ".a[0].b", ["==", ".", 1]]], args));
    assert.ok(holds([["all", ".empty?", ["==", ".", 1]]], { empty: [] }));
    assert.ok(!holds([["any", ".empty", ["==", ".", 1]]], { empty: [] }));
  });

  it("rejects malformed policies at parse time", () => {
    for (
      const bad of [
        "not a list",
        [["=="]],
        [["==", ".a"]],
        [["==", ".a", 1, 2]],
        [[1, ".a", 1]],
        [["<", ".a", "1"]],
        [["and", ["==", ".a", 1]]],
        [["not", "x"]],
        [["all", ".a"]],
        [["match", ".a", "*"]],
        [["like", ".a", 3]],
      ] as unknown[]
    ) {
      assert.throws(
        () => parsePolicy(bad),
        (e: unknown) => e instanceof UcanError && e.name === "InvalidPolicy",
        JSON.stringify(bad),
      );
    }
    let deep: Ipld = ["==", ".a", 1];
    for (let i = 0; i < 20; i++) deep = ["not", deep];
    assert.throws(() => parsePolicy([deep]), /deeper/);
  });

  it("evaluate never throws on arbitrary argument shapes", () => {
    const pol = parsePolicy([["all", ".[]", ["like", ".x[-1]", "*"]], [">=", ".[0][1:]", 3]]);
    for (const args of [null, 1, "s", [], {}, [[1]], { x: ["y"] }, new Uint8Array(3)] as Ipld[]) {
      for (const s of pol.statements) evaluate(s, args);
    }
  });
});

describe("the UCAN working group's policy fixtures", () => {
  const fixtures = JSON.parse(readFileSync(new URL("../fixtures/ucan/policy.json", import.meta.url), "utf8"));
  for (const [kind, want] of [["valid", true], ["invalid", false]] as const) {
    fixtures[kind].forEach((group: { args: Ipld; policies: Ipld[][] }, g: number) => {
      group.policies.forEach((policy, p) => {
        it(`${kind} ${g}.${p}: ${JSON.stringify(policy).slice(0, 70)}`, () => {
          assert.equal(holds(policy, group.args), want);
        });
      });
    });
  }
});
