/**
 * The two pieces `weft run --reproduce N` stands on: placement pins a task
 * to one node by its `node=<did>` tag (a node cannot claim another's by
 * advertising the tag), and compareRuns judges runs from their manifests
 * alone — a match only when every run succeeded on a distinct node with the
 * same spec and the same hashes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LiveAdvert } from "../../protocol/capacity/advert.ts";
import { ineligibility, type Need } from "../../protocol/scheduler/placement.ts";
import { compareRuns } from "../../protocol/artifacts/reproduce.ts";
import type { Manifest } from "../../protocol/artifacts/manifest.ts";
import { advert } from "../helpers/adverts.ts";

const live = (node: string, tags: string[] = []): LiveAdvert => ({
  ...advert({ runners: ["wasm", "nix"], tags }),
  node,
  at: Date.now(),
  expires: Date.now() + 60_000,
});
const need = (tags: string[]): Need => ({ runner: "nix", cpu: 0, memoryMb: 0, gpu: 0, tags });

describe("pinning a task to a node", () => {
  it("node=<did> matches that node only, and !node=<did> every other", () => {
    const a = live("did:key:zA");
    const b = live("did:key:zB");
    assert.equal(ineligibility(need(["node=did:key:zA"]), a), undefined);
    assert.match(ineligibility(need(["node=did:key:zA"]), b)!, /tag node=did:key:zA does not match/);
    assert.match(ineligibility(need(["!node=did:key:zA"]), a)!, /does not match/);
    assert.equal(ineligibility(need(["!node=did:key:zA"]), b), undefined);
  });

  it("a node advertising another's node tag is still itself", () => {
    const liar = live("did:key:zLiar", ["node=did:key:zA"]);
    assert.match(ineligibility(need(["node=did:key:zA"]), liar)!, /does not match/);
  });
});

function manifest(node: string, over: Partial<Manifest> = {}, nar = "aa", file = "bb"): Manifest {
  return {
    runner: { did: node, kind: "nix" },
    spec: "bafyspec",
    status: "succeeded",
    outputs: [{ path: "out/share/count", sha256: file }],
    build: { materials: [{ name: "nix-output:out", uri: "/nix/store/x-words", digest: { "nar-sha256": nar } }] },
    ...over,
  } as unknown as Manifest;
}

describe("comparing runs of one spec", () => {
  it("matches when every hash is the same on distinct nodes", () => {
    assert.deepEqual(compareRuns([manifest("did:key:zA"), manifest("did:key:zB")]), {
      match: true,
      nodes: ["did:key:zA", "did:key:zB"],
      differing: [],
    });
  });

  it("names what differs: a NAR hash, an output file", () => {
    const v = compareRuns([manifest("did:key:zA"), manifest("did:key:zB", {}, "cc", "dd")]);
    assert.equal(v.match, false);
    assert.deepEqual(v.differing, ["nix-output:out", "out/share/count"]);
  });

  it("never matches runs on one node, of different specs, failed, or fewer than two", () => {
    const cases: [Manifest[], RegExp][] = [
      [[manifest("did:key:zA"), manifest("did:key:zA")], /same node/],
      [[manifest("did:key:zA"), manifest("did:key:zB", { spec: "bafyother" })], /different specs/],
      [[manifest("did:key:zA"), manifest("did:key:zB", { status: "failed" })], /did:key:zB failed/],
      [[manifest("did:key:zA")], /fewer than two/],
    ];
    for (const [runs, why] of cases) {
      const v = compareRuns(runs);
      assert.equal(v.match, false);
      assert.ok(v.differing.some((d) => why.test(d)), v.differing.join("; "));
    }
  });

  it("an output present on one node only differs", () => {
    const extra = manifest("did:key:zB", {
      outputs: [{ path: "out/share/count", sha256: "bb" }, { path: "out/extra", sha256: "ee" }],
    } as Partial<Manifest>);
    assert.deepEqual(compareRuns([manifest("did:key:zA"), extra]).differing, ["out/extra"]);
  });
});
