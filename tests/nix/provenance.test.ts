/**
 * A Nix run's provenance: the signed statement names the source (its CID's
 * sha-256 and the git commit), the derivation and each output's NAR hash,
 * and a rebuild's verdict; changing any of them in the manifest breaks
 * verification, so a nondeterministic build cannot be passed off as checked.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHex, utf8 } from "../../protocol/bytes.ts";
import { nobleVerifier } from "../../protocol/identity/ed25519.ts";
import { buildManifest, type RunRecord } from "../../protocol/artifacts/build.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { decodeManifest, encodeManifest, manifestCid } from "../../protocol/artifacts/manifest.ts";
import { RUN_LOG_MEDIA_TYPE } from "../../protocol/artifacts/run-log.ts";
import { verifyManifest } from "../../protocol/artifacts/verify.ts";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { signer } from "../helpers/principals.ts";
import { sha256 } from "@noble/hashes/sha2.js";

const verifier = nobleVerifier();
const hex = (s: string) => toHex(sha256(utf8(s)));
const commit = "0123456789abcdef0123456789abcdef01234567";

async function nixRun(rebuild?: { identical: boolean; differing: string[] }) {
  const root = await signer();
  const runner = await signer();
  const authority = new SpaceAuthority({ space: root.did, verifier });
  const grant = await delegate({
    issuer: root,
    audience: runner.did,
    subject: root.did,
    command: "/weft/run",
    expiration: Math.floor(Date.now() / 1000) + 3600,
  });
  await authority.addDelegation(grant.bytes);
  const spec: RunSpec = {
    runner: "nix",
    program: "default.nix",
    args: rebuild ? ["--check"] : [],
    inputs: [],
    env: [],
    limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1 << 20 },
    source: { cid: rawCid(hex("source")), commit },
  };
  const out = hex("out");
  const now = Date.now();
  const record: RunRecord = {
    space: root.did,
    task: "task0001abcd",
    spec,
    result: {
      status: rebuild && !rebuild.identical ? "failed" : "succeeded",
      outputs: [{ path: "out/share/count", size: 3, sha256: out, cid: rawCid(out) }],
      build: {
        materials: [
          { name: "nix-derivation", uri: "/nix/store/xn72cxn7bb4akpyz33ylhi93sd636niz-words.drv" },
          {
            name: "nix-output:out",
            uri: "/nix/store/9vwp45h7yb7jrdirsdbzfn8xva2fhpp8-words",
            digest: { "nar-sha256": hex("nar") },
          },
        ],
        ...(rebuild ? { rebuild } : {}),
      },
      startedAt: now - 2000,
      endedAt: now - 1000,
    },
    outputs: [{
      path: "out/share/count",
      size: 3,
      sha256: out,
      cid: rawCid(out),
      mediaType: "text/plain",
      locations: [{ store: "local", node: runner.did }],
    }],
    log: {
      size: 1,
      sha256: hex("log"),
      cid: rawCid(hex("log")),
      mediaType: RUN_LOG_MEDIA_TYPE,
      locations: [{ store: "local", node: runner.did }],
    },
  };
  return { built: await buildManifest(runner, [grant], record), authority, record };
}

describe("nix provenance", () => {
  it("names the source with its commit, the derivation and the output NAR hashes", async () => {
    const { built, authority } = await nixRun();
    const ok = await verifyManifest(built.cid, built.bytes, { validator: authority.validator, verifier });
    const deps = ok.statement.predicate.buildDefinition.resolvedDependencies;
    assert.deepEqual(deps.find((d) => d.name === "source"), {
      name: "source",
      uri: `ipfs://${rawCid(hex("source"))}`,
      digest: { sha256: hex("source"), gitCommit: commit },
    });
    assert.equal(deps.find((d) => d.name === "nix-derivation")?.uri?.endsWith("-words.drv"), true);
    assert.deepEqual(deps.find((d) => d.name === "nix-output:out")?.digest, { "nar-sha256": hex("nar") });
    assert.equal(ok.manifest.runner.kind, "nix");
  });

  it("records a failed rebuild check in the signed result, and refuses a manifest that hides it", async () => {
    const { built, authority } = await nixRun({ identical: false, differing: ["out"] });
    const ok = await verifyManifest(built.cid, built.bytes, { validator: authority.validator, verifier });
    const result = ok.statement.predicate.runDetails.byproducts.find((b) => b.name === "result");
    assert.deepEqual(JSON.parse(Buffer.from(result!.content!, "base64").toString()), {
      status: "failed",
      rebuild: { identical: false, differing: ["out"] },
    });
    // Someone rewrites the manifest to say the rebuild matched (or drops the check, or a NAR hash): refused.
    const forgeries = [
      (m: ReturnType<typeof decodeManifest>) => void (m.build!.rebuild = { identical: true, differing: [] }),
      (m: ReturnType<typeof decodeManifest>) => void delete m.build!.rebuild,
      (m: ReturnType<typeof decodeManifest>) => void (m.build!.materials[1].digest = { "nar-sha256": hex("other") }),
    ];
    for (const forge of forgeries) {
      const m = decodeManifest(built.bytes);
      forge(m);
      const bytes = encodeManifest(m);
      await assert.rejects(
        verifyManifest(manifestCid(bytes), bytes, { validator: authority.validator, verifier }),
        { code: "artifact/tampered" },
      );
    }
  });

  it("refuses a manifest whose build record is malformed", async () => {
    const { built } = await nixRun();
    const m = decodeManifest(built.bytes) as unknown as { build: { materials: { digest: unknown }[] } };
    m.build.materials[1].digest = { "nar-sha256": "NOT HEX" };
    assert.throws(() => decodeManifest(encodeManifest(m as never)), { code: "artifact/invalid-manifest" });
  });
});
