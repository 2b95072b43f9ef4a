/**
 * Provenance formats against published vectors and real signing: DSSE
 * (the secure-systems-lab test vectors, reproduced byte for byte), the
 * in-toto/SLSA statement of a run, and manifest verification — signature,
 * statement, capability at the run's start, revocation, and digests.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromBase64Url, fromHex, fromUtf8, toBase64, toHex, utf8 } from "../../protocol/bytes.ts";
import { didFromPublicKey } from "../../protocol/identity/did-key.ts";
import { nobleVerifier, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { pae, signDsse, verifyDsse } from "../../protocol/artifacts/dsse.ts";
import { buildManifest, type RunRecord } from "../../protocol/artifacts/build.ts";
import { portableSha256, rawCid, sha256OfCid } from "../../protocol/artifacts/digest.ts";
import { decodeManifest, encodeManifest, manifestCid } from "../../protocol/artifacts/manifest.ts";
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE } from "../../protocol/artifacts/statement.ts";
import { encodeRunLog, RUN_LOG_MEDIA_TYPE, RUN_LOG_SUBJECT } from "../../protocol/artifacts/run-log.ts";
import { verifyManifest, verifyOutput } from "../../protocol/artifacts/verify.ts";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import { revoke } from "../../protocol/ucan/revocation.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { signer } from "../helpers/principals.ts";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

const vectors = JSON.parse(readFileSync(new URL("./fixtures/dsse-vectors.json", import.meta.url), "utf8"));
const verifier = nobleVerifier();

async function* chunks(bytes: Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe("DSSE", () => {
  it("PAE matches the protocol's example and every vector", () => {
    const ex = vectors.protocolExample;
    assert.equal(fromUtf8(pae(ex.payloadType, utf8(ex.payload))), ex.pae);
    // In "payload-type-swapped" the vector's PAE is of what was signed, not of the envelope it sits in.
    for (const v of vectors.vectors.filter((x: { id: string }) => x.id !== "payload-type-swapped")) {
      assert.equal(toHex(pae(v.envelope.payloadType, fromBase64Url(v.envelope.payload))), v.pae, v.id);
    }
  });

  it("signs exactly the vectors' Ed25519 signatures", async () => {
    for (const v of vectors.vectors.filter((x: { expect: string }) => x.expect === "accept")) {
      for (const s of v.envelope.signatures.filter((x: { keyid?: string }) => x.keyid !== undefined)) {
        const key = await signerFromSeed(fromHex(vectors.keys[s.keyid].seed));
        const env = await signDsse(key, v.envelope.payloadType, fromBase64Url(v.envelope.payload));
        assert.deepEqual(fromBase64Url(env.signatures[0].sig), fromBase64Url(s.sig), v.id);
        assert.equal(env.signatures[0].keyid, key.did);
      }
    }
  });

  it("accepts and rejects as the vectors expect", async () => {
    const did = (k: string) => didFromPublicKey(fromHex(vectors.keys[k].public));
    for (const v of vectors.vectors) {
      const outcome = await verifyDsse(v.envelope, {
        keys: v.trustedKeys.map(did),
        threshold: v.threshold,
        payloadTypes: v.supportedPayloadTypes,
        verifier,
      }).then(() => "accept", (e) => {
        assert.equal(e.code, "artifact/bad-signature");
        return "reject";
      });
      assert.equal(outcome, v.expect, v.id);
    }
  });

  it("refuses a malformed envelope with a clear error", async () => {
    await assert.rejects(
      verifyDsse({ payload: "%%", payloadType: "x", signatures: [] }, { keys: [], payloadTypes: ["x"], verifier }),
      { code: "artifact/bad-signature", message: /malformed.*base64/ },
    );
  });
});

describe("run manifests", () => {
  const spec: RunSpec = {
    runner: "wasm",
    program: rawCid(toHex(new Uint8Array(32).fill(1))),
    args: ["--coverage"],
    inputs: [{ path: "src.tar", cid: rawCid(toHex(new Uint8Array(32).fill(2))) }],
    env: [{ name: "CI", value: "1" }],
    limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1 << 30 },
  };
  const report = utf8("<html>coverage 93%</html>");
  const sha256Of = (bytes: Uint8Array) => nobleSha256(bytes);
  /** A run's log file as stored on the runner, printed `lines` on stdout. */
  const logFile = (runner: string, ...lines: string[]) => {
    const bytes = encodeRunLog(
      lines.map((text, i) => ({ stream: "stdout" as const, at: 1_700_000_000_000 + i, text })),
    );
    const sha256 = toHex(sha256Of(bytes));
    return {
      bytes,
      file: {
        size: bytes.length,
        sha256,
        cid: rawCid(sha256),
        mediaType: RUN_LOG_MEDIA_TYPE,
        locations: [{ store: "local" as const, node: runner }],
      },
    };
  };

  async function setting() {
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
    const sha256 = toHex(sha256Of(report));
    const now = Date.now();
    const record: RunRecord = {
      space: root.did,
      task: "task0001abcd",
      spec,
      result: {
        status: "succeeded",
        exitCode: 0,
        outputs: [{ path: "coverage/index.html", size: report.length, sha256, cid: rawCid(sha256) }],
        startedAt: now - 2000,
        endedAt: now - 1000,
      },
      outputs: [{
        path: "coverage/index.html",
        size: report.length,
        sha256,
        cid: rawCid(sha256),
        mediaType: "text/html",
        locations: [{ store: "local", node: runner.did }],
      }],
      log: logFile(runner.did, "coverage 93%").file,
    };
    return { root, runner, authority, grant, record };
  }

  it("builds a manifest whose statement is in-toto v1 / SLSA v1 and verifies", async () => {
    const { runner, authority, grant, record } = await setting();
    const built = await buildManifest(runner, [grant], record);
    assert.match(built.cid, /^bagu/);
    assert.equal(built.cid, manifestCid(built.bytes).toString());
    const ok = await verifyManifest(built.cid, built.bytes, { validator: authority.validator, verifier });
    assert.equal(ok.statement._type, STATEMENT_TYPE);
    assert.equal(ok.statement.predicateType, SLSA_PROVENANCE_V1);
    assert.deepEqual(ok.statement.subject, [
      { name: "coverage/index.html", digest: { sha256: record.outputs[0].sha256 }, mediaType: "text/html" },
      { name: RUN_LOG_SUBJECT, digest: { sha256: record.log.sha256 }, mediaType: RUN_LOG_MEDIA_TYPE },
    ]);
    const { buildDefinition, runDetails } = ok.statement.predicate;
    assert.deepEqual(buildDefinition.externalParameters.spec, spec);
    assert.equal(buildDefinition.resolvedDependencies[1].name, "inputs/src.tar");
    assert.equal(buildDefinition.resolvedDependencies[1].digest?.sha256, toHex(new Uint8Array(32).fill(2)));
    assert.equal(runDetails.builder.id, runner.did);
    assert.equal(runDetails.metadata.invocationId, ok.invocation.cid.toString());
    assert.equal(runDetails.metadata.startedOn, new Date(record.result.startedAt).toISOString());
    assert.equal(ok.manifest.provenance.signatures[0].keyid, runner.did);
    assert.equal(ok.invocation.cmd, "/weft/run/wasm");
    await verifyOutput(ok.manifest.outputs[0], chunks(report));
  });

  it("gives a failed build that wrote no files its log as the subject in-toto requires", async () => {
    const { runner, authority, grant, record } = await setting();
    const { bytes, file } = logFile(runner.did, "running 12 tests", "FAIL parser: expected 3, got 4");
    const failed: RunRecord = {
      ...record,
      result: { ...record.result, status: "failed", exitCode: 1, outputs: [] },
      outputs: [],
      log: file,
    };
    const built = await buildManifest(runner, [grant], failed);
    const ok = await verifyManifest(built.cid, built.bytes, { validator: authority.validator, verifier });
    // in-toto Statement v1: "subject" is REQUIRED and has at least one entry.
    assert.deepEqual(ok.statement.subject, [
      { name: RUN_LOG_SUBJECT, digest: { sha256: toHex(sha256Of(bytes)) }, mediaType: RUN_LOG_MEDIA_TYPE },
    ]);
    assert.deepEqual(ok.manifest.log, file);
    await verifyOutput({ path: RUN_LOG_SUBJECT, ...file }, chunks(bytes));
    // The log is signed for: another log in its place no longer matches the statement.
    const swapped = decodeManifest(built.bytes);
    const other = logFile(runner.did, "ok 12 tests").file;
    swapped.log = other;
    const forged = encodeManifest(swapped);
    await assert.rejects(verifyManifest(manifestCid(forged), forged, { validator: authority.validator, verifier }), {
      code: "artifact/tampered",
      message: /does not match its signed provenance statement/,
    });
  });

  it("detects a block that does not hash to its CID, and a manifest edited and re-encoded", async () => {
    const { runner, authority, grant, record } = await setting();
    const built = await buildManifest(runner, [grant], record);
    const flipped = built.bytes.slice();
    flipped[flipped.length - 3] ^= 1;
    await assert.rejects(verifyManifest(built.cid, flipped, { validator: authority.validator, verifier }), {
      code: "artifact/tampered",
    });
    const edited = decodeManifest(built.bytes);
    const other = toHex(new Uint8Array(32).fill(9));
    edited.outputs[0] = { ...edited.outputs[0], sha256: other, cid: rawCid(other) };
    const bytes = encodeManifest(edited);
    await assert.rejects(
      verifyManifest(manifestCid(bytes), bytes, { validator: authority.validator, verifier }),
      { code: "artifact/tampered", message: /does not match its signed provenance statement/ },
    );
    const relabelled = { ...decodeManifest(built.bytes), status: "failed" as const };
    const bytes2 = encodeManifest(relabelled);
    await assert.rejects(verifyManifest(manifestCid(bytes2), bytes2, { validator: authority.validator, verifier }), {
      code: "artifact/tampered",
    });
  });

  it("detects a statement re-signed by another key", async () => {
    const { runner, authority, grant, record } = await setting();
    const built = await buildManifest(runner, [grant], record);
    const forger = await signer();
    const m = decodeManifest(built.bytes);
    m.provenance = await signDsse(forger, m.provenance.payloadType, fromBase64Url(m.provenance.payload));
    m.provenance.signatures[0].keyid = runner.did;
    const bytes = encodeManifest(m);
    await assert.rejects(verifyManifest(manifestCid(bytes), bytes, { validator: authority.validator, verifier }), {
      code: "artifact/bad-signature",
    });
  });

  it("refuses a signer without the run capability, one revoked since, and one whose grant lapsed before the run", async () => {
    const { root, runner, authority, grant, record } = await setting();
    const outsider = await signer();
    const mine = await buildManifest(outsider, [grant], record);
    await assert.rejects(verifyManifest(mine.cid, mine.bytes, { validator: authority.validator, verifier }), {
      code: "artifact/unauthorized",
      message: /InvalidAudience|last proof/,
    });
    const taskOnly = await delegate({
      issuer: root,
      audience: outsider.did,
      subject: root.did,
      command: "/weft/task",
      expiration: null,
    });
    await authority.addDelegation(taskOnly.bytes);
    const weak = await buildManifest(outsider, [taskOnly], record);
    await assert.rejects(verifyManifest(weak.cid, weak.bytes, { validator: authority.validator, verifier }), {
      code: "artifact/unauthorized",
      message: /does not cover \/weft\/run\/wasm/,
    });

    const lapsed = await delegate({
      issuer: root,
      audience: runner.did,
      subject: root.did,
      command: "/weft/run/wasm",
      expiration: Math.floor(record.result.startedAt / 1000) - 60,
    });
    const late = await buildManifest(runner, [lapsed], record);
    await assert.rejects(verifyManifest(late.cid, late.bytes, { validator: authority.validator, verifier }), {
      code: "artifact/unauthorized",
      message: /expired/,
    });

    const good = await buildManifest(runner, [grant], record);
    await verifyManifest(good.cid, good.bytes, { validator: authority.validator, verifier });
    await authority.addRevocation((await revoke(root, [grant])).bytes);
    const again = new SpaceAuthority({ space: root.did, verifier });
    await again.addDelegation(grant.bytes);
    await again.addRevocation((await revoke(root, [grant])).bytes);
    await assert.rejects(verifyManifest(good.cid, good.bytes, { validator: again.validator, verifier }), {
      code: "artifact/unauthorized",
      message: /revoked/,
    });
  });

  it("checks every byte against the recorded digest and size", async () => {
    const { record } = await setting();
    const out = record.outputs[0];
    const flipped = report.slice();
    flipped[5] ^= 0x20;
    await assert.rejects(verifyOutput(out, chunks(flipped)), { code: "artifact/digest-mismatch", message: /sha-256/ });
    await assert.rejects(verifyOutput(out, chunks(report.subarray(1))), { code: "artifact/digest-mismatch" });
    await assert.rejects(verifyOutput(out, chunks(utf8(fromUtf8(report) + "!"))), { code: "artifact/digest-mismatch" });
  });

  it("names raw bytes by CID and back, refusing other CIDs", () => {
    const hex = toHex(new Uint8Array(32).fill(0xab));
    assert.equal(sha256OfCid(rawCid(hex)), hex);
    assert.throws(() => sha256OfCid("bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5jzbfoqtgvwyhmu"), {
      code: "artifact/invalid-cid",
    });
    assert.throws(() => sha256OfCid("nope"), { code: "artifact/invalid-cid" });
    const h = portableSha256();
    h.update(utf8("abc"));
    assert.equal(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(toBase64(new Uint8Array()), "");
  });
});
