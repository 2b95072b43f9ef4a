/**
 * Artifacts between two real peers on loopback libp2p, both publishing to
 * the same real S3-compatible server (s3rver, its own process): B fetches
 * the manifest of a run recorded on A by CID over their sync session (the
 * members-only blob exchange) and verifies its provenance and every output
 * byte; a manifest edited after signing, a flipped byte in a stored output
 * and a manifest signed by a key without the run capability are each
 * detected by the peer that fetched it. Also
 * the runners' ContentStore: local first, then S3, verified.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { buildManifest } from "../../protocol/artifacts/build.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { decodeManifest, encodeManifest } from "../../protocol/artifacts/manifest.ts";
import { RUN_LOG_MEDIA_TYPE, RUN_LOG_SUBJECT } from "../../protocol/artifacts/run-log.ts";
import { utf8 } from "../../protocol/bytes.ts";
import type { RunResult, RunSpec } from "../../protocol/runner/runner.ts";
import { newTaskId, type Space } from "../../protocol/space/space.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManifestPinner } from "../../peer/artifacts/pinner.ts";
import type { S3Settings } from "../../peer/artifacts/s3-config.ts";
import { ArtifactService } from "../../peer/artifacts/service.ts";
import { parseManifestCid } from "../../peer/artifacts/manifest-store.ts";
import { type ArtifactPeer, artifactPeer, runLog } from "../helpers/artifacts.ts";
import { dial, eventually, libp2pNode } from "../helpers/nodes.ts";
import { signer } from "../helpers/principals.ts";
import { startS3, type TestS3 } from "../helpers/s3-server.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** A run's log file of `lines` printed on stdout. */

const spec: RunSpec = {
  runner: "wasm",
  program: rawCid("1".repeat(64)),
  args: [],
  inputs: [],
  env: [],
  limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1 << 20 },
};

/** A finished run on `peer` whose one output (already in its local store) is `bytes`. */
async function finishedRun(peer: ArtifactPeer, bytes: Uint8Array, path = "report.txt"): Promise<RunResult> {
  const stored = await peer.artifacts.local.write([bytes]);
  const now = Date.now();
  return {
    status: "succeeded",
    exitCode: 0,
    outputs: [{ path, size: stored.size, sha256: stored.sha256, cid: stored.cid }],
    startedAt: now - 1500,
    endedAt: now - 500,
  };
}

describe("two peers: manifests by CID between members, verified", () => {
  let s3: TestS3;
  let a: ArtifactPeer;
  let b: ArtifactPeer;
  let space: Space;

  before(async () => {
    s3 = await startS3();
    a = await artifactPeer({ s3: s3.settings() });
    b = await artifactPeer({ s3: s3.settings() });
    space = await a.node.createSpace("builds");
    const invite = await a.node.invite(space.id, { audience: b.node.did });
    await dial(b, a);
    await b.node.join(invite, { signal: AbortSignal.timeout(15_000) });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await s3?.stop();
  });

  it("B fetches the manifest A recorded, by CID, and verifies its provenance and every byte", async () => {
    const report = utf8("coverage: 93%\n");
    const task = newTaskId();
    const built = await a.artifacts.recordRun(space.id, {
      task,
      spec,
      result: await finishedRun(a, report),
      log: runLog("coverage written"),
    });
    const cid = parseManifestCid(built.cid);
    assert.equal(await b.artifacts.manifests.has(cid), false);

    const v = await b.artifacts.manifest(space.id, built.cid);
    assert.equal(await b.artifacts.manifests.has(cid), true);
    assert.equal(await b.artifacts.manifests.isPinned(cid), true);
    assert.equal(v.manifest.runner.did, a.node.did);
    assert.equal(v.manifest.provenance.signatures[0].keyid, a.node.did);
    assert.equal(v.statement.subject[0].digest?.sha256, sha(report));
    assert.equal(v.statement.predicate.runDetails.builder.id, a.node.did);
    assert.deepEqual(v.manifest.outputs[0].locations[0], {
      store: "s3",
      bucket: "weft",
      key: `test/sha256/${sha(report)}`,
    });

    const checked = await b.artifacts.verify(space.id, built.cid);
    assert.equal(checked.ok, true, JSON.stringify(checked));
    assert.equal(checked.runner?.did, a.node.did);
    assert.deepEqual(checked.outputs.map((o) => o.path), ["report.txt", RUN_LOG_SUBJECT]);
    assert.ok(checked.outputs.every((o) => o.from === "s3")); // B holds no copy: every byte came from the bucket
    assert.equal(await b.artifacts.local.stat(sha(report)), undefined);
  });

  it("a manifest edited after signing is detected by the peer that fetches it", async () => {
    const built = await a.artifacts.recordRun(space.id, {
      task: newTaskId(),
      spec,
      result: await finishedRun(a, utf8("the real output")),
      log: runLog("wrote the real output"),
    });
    const edited = decodeManifest(built.bytes);
    const other = sha(utf8("a substituted output"));
    edited.outputs[0] = { ...edited.outputs[0], sha256: other, cid: rawCid(other) };
    // A serves the edited block as any peer could; B must not trust it.
    const forged = await a.artifacts.manifests.put(encodeManifest(edited), { space: space.id, task: edited.task });

    const r = await b.artifacts.verify(space.id, forged.toString());
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "artifact/tampered");
    assert.match(r.error!.message, /does not match its signed provenance statement/);
    await assert.rejects(b.artifacts.manifest(space.id, forged.toString()), { code: "artifact/tampered" });
    assert.equal(await b.artifacts.manifests.isPinned(forged), false);
  });

  it("a flipped byte in a stored output is detected", async () => {
    const bytes = utf8("artifact whose stored copy will be corrupted");
    const built = await a.artifacts.recordRun(space.id, {
      task: newTaskId(),
      spec,
      result: await finishedRun(a, bytes),
      log: runLog("wrote it"),
    });
    assert.equal((await b.artifacts.verify(space.id, built.cid)).ok, true);
    const flipped = bytes.slice();
    flipped[7] ^= 0x01;
    const remote = b.artifacts.remote!;
    await remote.client.send(new PutObjectCommand({ Bucket: "weft", Key: remote.key(sha(bytes)), Body: flipped }));

    const r = await b.artifacts.verify(space.id, built.cid);
    assert.equal(r.ok, false);
    assert.equal(r.error, undefined); // the manifest itself is fine
    assert.equal(r.outputs[0].ok, false);
    assert.equal(r.outputs[0].from, "s3");
    assert.equal(r.outputs[0].error?.code, "artifact/digest-mismatch");
  });

  it("a bridge's run is recorded with provenance signed by the bridge under its own run capability", async () => {
    const bridge = await signer();
    const result = await finishedRun(a, utf8("ran on the cluster"));
    const run = { task: newTaskId(), spec, result, log: runLog("ran") };
    // Without /weft/run/wasm delegated to it, the bridge cannot sign the run's provenance.
    await assert.rejects(a.artifacts.recordRun(space.id, run, bridge), new RegExp(`${bridge.did} holds no delegation`));
    await space.invite({ audience: bridge.did, command: "/weft/run/wasm" });
    const built = await a.artifacts.recordRun(space.id, run, bridge);
    const v = await b.artifacts.manifest(space.id, built.cid);
    assert.equal(v.manifest.runner.did, bridge.did);
    assert.equal(v.manifest.provenance.signatures[0].keyid, bridge.did);
    assert.equal(v.statement.predicate.runDetails.builder.id, bridge.did);
    const checked = await b.artifacts.verify(space.id, built.cid);
    assert.equal(checked.ok, true, JSON.stringify(checked));
  });

  it("a manifest signed by a key without the run capability is refused", async () => {
    // A member that may work on tasks but not run jobs, signing a run's provenance anyway.
    const member = await signer();
    const { chain } = await space.invite({ audience: member.did, command: "/weft/task" });
    const result = await finishedRun(a, utf8("output of an unauthorized run"));
    const record = {
      space: space.id,
      task: newTaskId(),
      spec,
      result,
      outputs: result.outputs.map((o) => ({
        ...o,
        mediaType: "text/plain",
        locations: [{ store: "local" as const, node: member.did }],
      })),
      log: {
        ...(({ sha256, size, cid }) => ({ sha256, size, cid }))(
          await a.artifacts.local.write([runLog("unauthorized")]),
        ),
        mediaType: RUN_LOG_MEDIA_TYPE,
        locations: [{ store: "local" as const, node: member.did }],
      },
    };
    const built = await buildManifest(member, chain, record);
    await a.artifacts.manifests.put(built.bytes, { space: space.id, task: record.task });

    const r = await b.artifacts.verify(space.id, built.cid);
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "artifact/unauthorized");
    assert.match(r.error!.message, /does not cover \/weft\/run\/wasm/);
    assert.equal(await b.artifacts.manifests.isPinned(parseManifestCid(built.cid)), false);
  });

  it("B's pinner keeps the manifest a task result on A records", async () => {
    const pinner = new ManifestPinner(b.artifacts, { intervalMs: 200, fetchMs: 5_000 });
    await pinner.start();
    try {
      const t = await space.createTask({ title: "build and attach the report" });
      const claimed = await space.claim(t.id);
      const built = await a.artifacts.recordRun(space.id, {
        task: t.id,
        spec,
        result: await finishedRun(a, utf8("pinned by headless peers")),
        log: runLog("pinned"),
      });
      await space.act("result", { task: t.id, fence: claimed.lease!.fence, outcome: "success", manifest: built.cid });
      await eventually(() => pinner.kept.has(built.cid), 15_000, "B pins the manifest");
      assert.equal(await b.artifacts.manifests.isPinned(parseManifestCid(built.cid)), true);
      const listed = await b.artifacts.list(space.id);
      assert.ok(listed.manifests.some((m) => m.cid === built.cid && m.pinned));
    } finally {
      pinner.stop();
    }
  });

  it("the runners' ContentStore reads local first, then S3 (copied in, verified), and puts locally", async () => {
    const store = b.artifacts.contentStore();
    // Uploaded through A's API path: with S3 configured it lands in the bucket only.
    const program = utf8("(component bytes uploaded on A)");
    const stored = await a.artifacts.put(space.id, [program]);
    assert.equal(stored.location.store, "s3");
    assert.equal(await b.artifacts.local.stat(stored.sha256), undefined);
    assert.deepEqual(await store.get(stored.cid), program);
    assert.deepEqual(await b.artifacts.local.stat(stored.sha256), { size: program.length }); // kept locally now

    const output = utf8("written by a run on B");
    const cid = await store.put(output);
    assert.equal(cid, rawCid(sha(output)));
    assert.deepEqual(await b.artifacts.local.get(cid), output);
    assert.equal(await b.artifacts.remote!.stat(sha(output)), undefined);
    assert.deepEqual(await store.get(cid), output);

    assert.equal(await store.get(rawCid("2".repeat(64))), undefined);
    await assert.rejects(store.get("bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5jzbfoqtgvwyhmu"), {
      code: "artifact/invalid-cid",
    });
  });

  it("the ContentStore refuses an S3 object that does not match its CID, keeping nothing", async () => {
    const bytes = utf8("an input whose bucket copy was corrupted");
    const remote = a.artifacts.remote!;
    await remote.client.send(
      new PutObjectCommand({ Bucket: "weft", Key: remote.key(sha(bytes)), Body: utf8("something else entirely") }),
    );
    await assert.rejects(b.artifacts.contentStore().get(rawCid(sha(bytes))), { code: "artifact/digest-mismatch" });
    assert.equal(await b.artifacts.local.stat(sha(bytes)), undefined);
  });
});

describe("opening a peer's artifacts with S3 settings", () => {
  it("refuses wrong credentials or a missing bucket, and only warns about an endpoint that does not answer", async () => {
    const s3 = await startS3();
    const t = await libp2pNode();
    const dir = await mkdtemp(join(tmpdir(), "weft-artifacts-open-"));
    try {
      const open = (overrides: Partial<S3Settings>, warn?: (m: string) => void) =>
        ArtifactService.open({ dir, node: t.node, s3: s3.settings(overrides), ...(warn ? { warn } : {}) });
      await assert.rejects(open({ accessKeyId: "NOT-A-KEY", secretAccessKey: "nope" }), {
        code: "artifact/store-credentials",
      });
      await assert.rejects(open({ bucket: "no-such-bucket" }), {
        code: "artifact/store-missing-bucket",
        message: /no-such-bucket/,
      });
      const warnings: string[] = [];
      await s3.kill();
      const service = await open({}, (m) => warnings.push(m));
      try {
        assert.match(warnings.join("\n"), /cannot reach the S3 endpoint/);
        assert.equal(service.primary.kind, "s3");
        await assert.rejects(service.remote!.stat("0".repeat(64)), { code: "artifact/store-unreachable" });
      } finally {
        await service.stop();
      }
    } finally {
      await t.node.stop();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the ContentStore without S3", () => {
  it("is the local store", async () => {
    const p = await artifactPeer();
    try {
      const store = p.artifacts.contentStore();
      const cid = await store.put(utf8("local only"));
      assert.deepEqual(await store.get(cid), utf8("local only"));
      assert.equal(await store.get(rawCid("3".repeat(64))), undefined);
    } finally {
      await p.stop();
    }
  });
});
