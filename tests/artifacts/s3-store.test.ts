/**
 * The S3 artifact store against a real S3-compatible server process
 * (s3rver on loopback, started and stopped here): a 100 MB round trip with
 * digest check (its memory and speed are measured in
 * tests/bench/artifacts-transfer.bench.ts), a download interrupted by the server dying
 * that resumes where it stopped, and clear errors — losing nothing — for
 * wrong credentials, a missing bucket, an unreachable endpoint and bytes
 * that do not match their digest.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { S3ArtifactStore } from "../../peer/artifacts/s3-store.ts";
import { s3Settings } from "../../peer/artifacts/s3-config.ts";
import { ARTIFACTS_TOML, artifactsConfig, isArtifactsEnv } from "../../peer/daemon/artifacts-config.ts";
import { parse as parseToml } from "smol-toml";
import { downloadToFile } from "../../peer/artifacts/download.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { utf8 } from "../../protocol/bytes.ts";
import { startS3, type TestS3 } from "../helpers/s3-server.ts";
import { pattern } from "../helpers/artifacts.ts";

const MB = 1024 * 1024;

async function keys(store: S3ArtifactStore): Promise<string[]> {
  const r = await store.client.send(new ListObjectsV2Command({ Bucket: store.settings.bucket }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("S3 artifact store", () => {
  let s3: TestS3;
  let store: S3ArtifactStore;
  let dir: string;

  before(async () => {
    s3 = await startS3();
    store = new S3ArtifactStore(s3.settings());
    dir = await mkdtemp(join(tmpdir(), "weft-s3-test-"));
  });
  after(async () => {
    store.destroy();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips 100 MB, streaming, and checks the digest", async () => {
    const size = 100 * MB;
    const hash = createHash("sha256");
    for await (const c of pattern(size, MB, 7)) hash.update(c);
    const sha256 = hash.digest("hex");
    let progress = 0;
    const stored = await store.write(pattern(size, MB, 7), { sha256, size, onProgress: (n) => (progress = n) });
    assert.deepEqual(stored, {
      sha256,
      size,
      cid: rawCid(sha256),
      location: { store: "s3", bucket: "weft", key: `test/sha256/${sha256}` },
    });
    assert.equal(progress, size);
    assert.deepEqual(await store.stat(sha256), { size });
    const file = join(dir, "roundtrip.bin");
    const got = await downloadToFile({
      path: file,
      sha256,
      size,
      open: async (offset) => ({ total: size, body: await store.read(sha256, { offset }) }),
    });
    assert.deepEqual(got, { path: file, size, resumedFrom: 0 });
    assert.equal((await stat(file)).size, size);
    await rm(file);
  });

  it("learns the digest of an upload on the way when none is given, keeping no temp object", async () => {
    const bytes = utf8("no digest up front");
    const stored = await store.write([bytes]);
    assert.equal(stored.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.deepEqual((await keys(store)).filter((k) => k.includes("incoming/")), []);
    const back = [];
    for await (const c of await store.read(stored.sha256)) back.push(c);
    assert.deepEqual(Buffer.concat(back), Buffer.from(bytes));
  });

  it("refuses bytes that do not match their digest or size; nothing appears under the digest", async () => {
    const before = await keys(store);
    const claimed = "c".repeat(64);
    await assert.rejects(store.write(pattern(12 * MB, MB, 3), { sha256: claimed }), {
      code: "artifact/digest-mismatch",
    });
    await assert.rejects(store.write([utf8("short")], { size: 10 }), { code: "artifact/digest-mismatch" });
    assert.deepEqual(await keys(store), before);
  });

  it("resumes a download the server's death interrupted", async () => {
    const size = 48 * MB;
    const hash = createHash("sha256");
    for await (const c of pattern(size, MB, 11)) hash.update(c);
    const sha256 = hash.digest("hex");
    await store.write(pattern(size, MB, 11), { sha256, size });
    const file = join(dir, "resumed.bin");
    let killed = false;
    await assert.rejects(
      downloadToFile({
        path: file,
        sha256,
        size,
        retries: 1,
        backoffMs: 50,
        open: async (offset) => ({ total: size, body: await store.read(sha256, { offset }) }),
        onProgress: (done) => {
          if (!killed && done >= 16 * MB) {
            killed = true;
            void s3.kill();
          }
        },
      }),
      { code: "artifact/store-unreachable", message: /cannot reach the S3 endpoint/ },
    );
    const partial = (await stat(`${file}.part`)).size;
    assert.ok(partial >= 16 * MB && partial < size, `kept ${partial} bytes`);
    await assert.rejects(stat(file), { code: "ENOENT" }); // nothing unverified under the final name
    await s3.restart();
    const offsets: number[] = [];
    const got = await downloadToFile({
      path: file,
      sha256,
      size,
      open: async (offset) => {
        offsets.push(offset);
        return { total: size, body: await store.read(sha256, { offset }) };
      },
    });
    assert.equal(got.resumedFrom, partial);
    assert.deepEqual(offsets, [partial]);
    assert.equal(createHash("sha256").update(await readFile(file)).digest("hex"), sha256);
  });

  it("a corrupted part file is caught by the digest and removed, so the retry starts over", async () => {
    const bytes = utf8("some artifact bytes that will be resumed");
    const { sha256, size } = await store.write([bytes]);
    const file = join(dir, "corrupt.bin");
    await writeFile(`${file}.part`, "XXXX");
    const open = async (offset: number) => ({ total: size, body: await store.read(sha256, { offset }) });
    await assert.rejects(downloadToFile({ path: file, sha256, size, open }), { code: "artifact/digest-mismatch" });
    await assert.rejects(stat(`${file}.part`), { code: "ENOENT" });
    assert.equal((await downloadToFile({ path: file, sha256, size, open })).resumedFrom, 0);
    assert.equal(await readFile(file, "utf8"), "some artifact bytes that will be resumed");
  });

  it("wrong credentials: a clear error, and nothing lost", async () => {
    const before = await keys(store);
    const source = join(dir, "precious.txt");
    await writeFile(source, "do not lose me");
    const wrong = new S3ArtifactStore(s3.settings({ accessKeyId: "NOT-A-KEY", secretAccessKey: "nope" }));
    try {
      await assert.rejects(wrong.check(), { code: "artifact/store-credentials", message: /refused the credentials/ });
      await assert.rejects(wrong.write([await readFile(source)]), {
        code: "artifact/store-credentials",
        message: /check the S3 access key and secret/,
      });
      await assert.rejects(wrong.read("0".repeat(64)), { code: "artifact/store-credentials" });
    } finally {
      wrong.destroy();
    }
    assert.equal(await readFile(source, "utf8"), "do not lose me");
    assert.deepEqual(await keys(store), before);
  });

  it("a missing bucket: a clear error naming it", async () => {
    const missing = new S3ArtifactStore(s3.settings({ bucket: "no-such-bucket" }));
    try {
      await assert.rejects(missing.check(), { code: "artifact/store-missing-bucket", message: /no-such-bucket/ });
      await assert.rejects(missing.write([utf8("x")]), { code: "artifact/store-missing-bucket" });
      await assert.rejects(missing.read("0".repeat(64)), { code: "artifact/store-missing-bucket" });
    } finally {
      missing.destroy();
    }
  });

  // A hang, not a slow answer, is what the timeout catches.
  it("an unreachable endpoint: a clear error, not a hang", { timeout: 60_000 }, async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const down = new S3ArtifactStore(s3.settings({ endpoint }));
    try {
      await assert.rejects(down.check(), { code: "artifact/store-unreachable", message: new RegExp(endpoint) });
      await assert.rejects(down.write([utf8("x")], { sha256: "d".repeat(64), size: 1 }), {
        code: "artifact/store-unreachable",
      });
    } finally {
      down.destroy();
    }
  });

  it("reads its settings from weft.toml and WEFT_S3_* (the environment wins), validating them", () => {
    assert.equal(s3Settings(undefined, {}), undefined);
    const s = s3Settings(
      { bucket: "artifacts", endpoint: "http://127.0.0.1:9000/", prefix: "ci" },
      { WEFT_S3_ACCESS_KEY_ID: "id", WEFT_S3_SECRET_ACCESS_KEY: "secret", WEFT_S3_BUCKET: "other" },
    );
    assert.deepEqual(s, {
      endpoint: "http://127.0.0.1:9000",
      region: "us-east-1",
      bucket: "other",
      prefix: "ci/",
      forcePathStyle: true,
      accessKeyId: "id",
      secretAccessKey: "secret",
    });
    assert.throws(() => s3Settings({ bucket: "x" }, {}), { code: "config/invalid", message: /bucket/ });
    assert.throws(() => s3Settings({ bucket: "okay", colour: "red" }, {}), { message: /artifacts.s3.colour/ });
    assert.throws(() => s3Settings(undefined, { WEFT_S3_ENDPOINT: "http://x" }), { message: /WEFT_S3_BUCKET/ });
    assert.throws(() => s3Settings(undefined, { WEFT_S3_BUCKET: "okay", WEFT_S3_ACCESS_KEY_ID: "id" }), {
      message: /given together/,
    });
  });

  it("reads [artifacts.s3] from a parsed weft.toml for the daemon, refusing what it does not know", () => {
    const toml = parseToml(`name = "box"\n[artifacts.s3]\nbucket = "builds"\nendpoint = "http://127.0.0.1:9000"\n`);
    assert.deepEqual(artifactsConfig(toml, {}), {
      s3: {
        endpoint: "http://127.0.0.1:9000",
        region: "us-east-1",
        bucket: "builds",
        prefix: "weft/",
        forcePathStyle: true,
      },
    });
    assert.deepEqual(artifactsConfig(undefined, {}), {});
    assert.deepEqual(artifactsConfig({ name: "box" }, {}), {});
    assert.equal(artifactsConfig(undefined, { WEFT_S3_BUCKET: "from-env" }).s3?.bucket, "from-env");
    assert.equal(artifactsConfig(toml, { WEFT_S3_BUCKET: "from-env" }).s3?.bucket, "from-env");
    assert.throws(() => artifactsConfig({ artifacts: { gcs: {} } }, {}, "/d/weft.toml"), {
      code: "config/invalid",
      message: "/d/weft.toml: artifacts.gcs is not a known setting",
    });
    assert.throws(() => artifactsConfig({ artifacts: "s3" }, {}), { message: /artifacts must be a table/ });
    assert.throws(() => artifactsConfig({ artifacts: { s3: { bucket: "UPPER" } } }, {}), {
      message: /artifacts.s3.bucket/,
    });
    assert.equal(isArtifactsEnv("WEFT_S3_SECRET_ACCESS_KEY"), true);
    assert.equal(isArtifactsEnv("WEFT_S3_COLOUR"), false);
    // The commented section weft init can write parses, and configures nothing until uncommented.
    assert.deepEqual(artifactsConfig(parseToml(ARTIFACTS_TOML), {}), {});
  });
});
