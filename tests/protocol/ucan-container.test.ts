import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  commandProblem,
  Commands,
  type ContainerForm,
  decodeContainer,
  encodeContainer,
  invoke,
  proves,
  UcanError,
} from "../../protocol/ucan/index.ts";
import { decode } from "@ipld/dag-cbor";
import { encode } from "../../protocol/codec/dag-cbor.ts";
import { compareBytes } from "../../protocol/bytes.ts";
import { chain, signers } from "../helpers/principals.ts";

const sorted = (tokens: readonly Uint8Array[]) => [...tokens].sort(compareBytes);

describe("UCAN containers", () => {
  it("round-trip an invocation and its proofs in every form", async () => {
    const [space, a, b] = await signers(3);
    const proofs = await chain([space, a, b], [{}, {}]);
    const inv = await invoke({ issuer: b, subject: space.did, command: "/x", args: {}, proofs, expiration: null });
    const tokens = [inv.bytes, ...proofs.map((p) => p.bytes)];
    for (const form of ["@", "B", "C", "M", "O", "P"] as ContainerForm[]) {
      const c = await encodeContainer(tokens, form);
      assert.equal(typeof c === "string" ? c[0] : String.fromCharCode(c[0]), form);
      assert.deepEqual(sorted(await decodeContainer(c)), sorted(tokens));
    }
  });

  it("order the token array bytewise, once each, whatever order they are given in (spec §2.1)", async () => {
    const [space, a, b] = await signers(3);
    const proofs = await chain([space, a, b], [{}, {}]);
    const inv = await invoke({ issuer: b, subject: space.did, command: "/x", args: {}, proofs, expiration: null });
    const tokens = [inv.bytes, ...proofs.map((p) => p.bytes)];
    const expected = sorted(tokens);
    for (const given of [tokens, [...tokens].reverse(), [...tokens, tokens[0], tokens[2]]]) {
      const raw = (await encodeContainer(given, "@")) as Uint8Array;
      // The array as written, read without any re-ordering by the reader.
      const body = decode<Record<string, Uint8Array[]>>(raw.subarray(1));
      assert.deepEqual(body["ctn-v1"], expected);
      assert.deepEqual(raw, await encodeContainer(expected, "@"));
    }
  });

  it("read tokens in any order: order carries no meaning", async () => {
    const [space, a] = await signers(2);
    const [d] = await chain([space, a], [{}]);
    const inv = await invoke({ issuer: a, subject: space.did, command: "/x", args: {}, proofs: [d], expiration: null });
    const descending = sorted([inv.bytes, d.bytes]).reverse();
    const raw = new Uint8Array([0x40, ...encode({ "ctn-v1": descending })]);
    assert.deepEqual(sorted(await decodeContainer(raw)), sorted(descending));
  });

  it("rejects malformed containers with a typed error", async () => {
    // 2 MB of zeros gzip to a few KB: decompression must stop at the limit.
    const huge = encode({ "ctn-v1": [new Uint8Array(2_000_000)] });
    const gzipBomb = await new Response(
      new Blob([huge as BlobPart]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    const bomb = new Uint8Array([0x4d, ...new Uint8Array(gzipBomb)]);
    for (
      const bad of [
        "",
        "Z",
        "Cnot-base64!",
        "C" + btoa("hello"),
        await encodeContainer([new Uint8Array([1])], "C").then((c) => (c as string).slice(0, -4)),
        "@" + "x",
        bomb,
        new Uint8Array([0x40, ...encode({ "ctn-v1": [], extra: 1 })]),
        new Uint8Array([0x40, ...encode({ "ctn-v1": [] })]),
        new Uint8Array([0x40, ...encode({ "ctn-v1": ["text"] })]),
      ]
    ) {
      await assert.rejects(decodeContainer(bad), (e: unknown) => e instanceof UcanError && e.name === "MalformedToken");
    }
  });
});

describe("commands", () => {
  it("prove by whole segments", () => {
    assert.ok(proves("/", "/anything/at/all"));
    assert.ok(proves("/weft/task", "/weft/task"));
    assert.ok(proves("/weft/task", "/weft/task/claim/renew"));
    assert.ok(!proves("/weft/task", "/weft/taskforce"));
    assert.ok(!proves("/weft/task/claim", "/weft/task"));
    assert.ok(proves(Commands.taskClaim, Commands.taskResult));
    assert.ok(!proves(Commands.taskComment, Commands.taskClaim));
  });

  it("must be lowercase paths without empty or trailing segments", () => {
    for (const ok of ["/", "/a", "/weft/task/claim", "/a-b_c.d~e/0"]) assert.equal(commandProblem(ok), undefined, ok);
    for (const bad of ["", "a", "/A", "//", "/a//b", "/a/", 7, "/" + "a".repeat(300)]) {
      assert.ok(commandProblem(bad), String(bad));
    }
  });

  it("follow the spec's grammar for any Unicode: lowercase, not ASCII-only", () => {
    // Every example of ucan-wg/spec's "Segment Structure", the last one non-ASCII.
    for (
      const ok of ["/", "/crud", "/crud/create", "/stack/pop", "/crypto/sign", "/foo/bar/baz/qux/quux", "/ほげ/ふが"]
    ) {
      assert.equal(commandProblem(ok), undefined, ok);
    }
    for (const ok of ["/straße", "/δοκιμή/ένα", "/a b", "/emoji/🙂"]) assert.equal(commandProblem(ok), undefined, ok);
    // Lowercase holds beyond ASCII; a lone surrogate cannot be encoded as it is.
    for (const bad of ["/Ωmega", "/straSSe", "/ÄRGER", "/ǅ", "/x/\uD800"]) {
      assert.match(commandProblem(bad) ?? "", /lowercase|well-formed/, bad);
    }
    assert.ok(proves("/ほげ", "/ほげ/ふが"));
    assert.ok(!proves("/ほげ", "/ほげほげ"));
    for (const c of Object.values(Commands)) assert.equal(commandProblem(c), undefined, c);
  });
});
