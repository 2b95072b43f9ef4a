/**
 * 100 MB artifacts through Weft against a real s3rver process, with the raw
 * AWS SDK against the same server, on the same client, in the same run:
 *
 *   upload:   S3ArtifactStore.write with the digest announced (as the API
 *             does): a HEAD for dedupe, lib-storage multipart, sha-256
 *             checked on the way — vs lib-storage Upload of the same bytes
 *             (same part size 5 MiB and queue size 4).
 *   download: downloadToFile (a .part file, hashed as it arrives, fsynced,
 *             renamed; what `weft artifact get` does) — vs GetObject piped
 *             to a file.
 *   memory:   peak live memory growth (JS heap + array buffers, after a
 *             synchronous full GC every 250 ms) during each of the above,
 *             and during a 100 MB write and read of the local store (vs
 *             node:fs streams).
 *
 * Sources are 100 pre-generated 1 MiB chunks with a per-run stamp, so every
 * upload is new content (no dedupe) and generating bytes costs nothing in
 * the timed part. Weft and raw alternate, each going first half the time.
 * Target: Weft throughput >= 0.8x raw.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { downloadToFile } from "../../peer/artifacts/download.ts";
import { LocalArtifactStore } from "../../peer/artifacts/local-store.ts";
import { S3ArtifactStore } from "../../peer/artifacts/s3-store.ts";
import { pattern, peakLiveGrowth } from "../helpers/artifacts.ts";
import { signer } from "../helpers/principals.ts";
import { startS3 } from "../helpers/s3-server.ts";
import { percentile, report } from "./report.ts";

const BENCH = "artifacts-transfer";
const MB = 1024 * 1024;
const SIZE = 100 * MB;
const RUNS = 7;
const MEMORY_RUNS = 3;
const PART = 5 * MB;
const QUEUE = 4;
/** Memory is sampled this often (each sample is a full synchronous GC, which slows the transfer it watches). */
const SAMPLE_MS = 250;

const s3 = await startS3();
const dir = await mkdtemp(join(tmpdir(), "weft-bench-artifacts-"));
const store = new S3ArtifactStore(s3.settings({ prefix: "bench/" }), { partSize: PART, queueSize: QUEUE });
const bucket = store.settings.bucket;

const chunks: Uint8Array[] = [];
for await (const c of pattern(SIZE, MB, 42)) chunks.push(c);
let stamp = 0;

/** New content: the 100 chunks with a fresh stamp in the first bytes; its sha-256. */
function fresh(): string {
  new DataView(chunks[0].buffer).setFloat64(0, ++stamp);
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
}

async function* source(): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function weftUpload(sha256: string): Promise<void> {
  const stored = await store.write(source(), { sha256, size: SIZE });
  if (stored.sha256 !== sha256) throw new Error("digest changed");
}

async function rawUpload(key: string): Promise<void> {
  await new Upload({
    client: store.client,
    params: { Bucket: bucket, Key: key, Body: Readable.from(source()) },
    partSize: PART,
    queueSize: QUEUE,
  }).done();
}

async function weftDownload(sha256: string, file: string): Promise<void> {
  await downloadToFile({
    path: file,
    sha256,
    size: SIZE,
    open: async (offset) => ({ total: SIZE, body: await store.read(sha256, { offset }) }),
  });
}

async function rawDownload(key: string, file: string): Promise<void> {
  const res = await store.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(res.Body as Readable, createWriteStream(file));
}

const timed = async (fn: () => Promise<void>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const remove = (key: string) => store.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

// Warm up the connections and the JIT on both paths.
{
  const sha = fresh();
  await weftUpload(sha);
  await rawUpload("warm");
  await remove(store.key(sha));
  await remove("warm");
}

// ---- uploads ----
const up = { weft: [] as number[], raw: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const order = i % 2 === 0 ? ["weft", "raw"] as const : ["raw", "weft"] as const;
  for (const who of order) {
    const sha = fresh();
    const key = who === "weft" ? store.key(sha) : `raw/${sha}`;
    up[who].push(await timed(() => who === "weft" ? weftUpload(sha) : rawUpload(key)));
    await remove(key);
  }
}

// ---- downloads (of one object, stored once under both names) ----
const object = fresh();
await weftUpload(object);
await rawUpload("raw/object");
const down = { weft: [] as number[], raw: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const order = i % 2 === 0 ? ["weft", "raw"] as const : ["raw", "weft"] as const;
  for (const who of order) {
    const file = join(dir, `${who}-${i}.bin`);
    down[who].push(await timed(() => who === "weft" ? weftDownload(object, file) : rawDownload("raw/object", file)));
    await rm(file, { force: true });
  }
}

// ---- memory ----
const mem = { weftUp: [] as number[], rawUp: [] as number[], weftDown: [] as number[], rawDown: [] as number[] };
for (let i = 0; i < MEMORY_RUNS; i++) {
  const sha = fresh();
  mem.weftUp.push(await peakLiveGrowth(() => weftUpload(sha), SAMPLE_MS));
  await remove(store.key(sha));
  mem.rawUp.push(await peakLiveGrowth(() => rawUpload("raw/memory"), SAMPLE_MS));
  await remove("raw/memory");
  const a = join(dir, "weft-mem.bin");
  const b = join(dir, "raw-mem.bin");
  mem.weftDown.push(await peakLiveGrowth(() => weftDownload(object, a), SAMPLE_MS));
  mem.rawDown.push(await peakLiveGrowth(() => rawDownload("raw/object", b), SAMPLE_MS));
  await rm(a, { force: true });
  await rm(b, { force: true });
}
const local = await LocalArtifactStore.open({ dir: join(dir, "local"), node: (await signer()).did });
const localMem = {
  weftWrite: [] as number[],
  rawWrite: [] as number[],
  weftRead: [] as number[],
  rawRead: [] as number[],
};
for (let i = 0; i < MEMORY_RUNS; i++) {
  const sha = fresh();
  localMem.weftWrite.push(
    await peakLiveGrowth(async () => void await local.write(source(), { sha256: sha, size: SIZE }), SAMPLE_MS),
  );
  const file = join(dir, "raw-local.bin");
  localMem.rawWrite.push(
    await peakLiveGrowth(() => pipeline(Readable.from(source()), createWriteStream(file)), SAMPLE_MS),
  );
  const drain = async (body: AsyncIterable<Uint8Array>) => {
    for await (const _ of body) { /* consume */ }
  };
  localMem.weftRead.push(await peakLiveGrowth(async () => drain(await local.read(sha)), SAMPLE_MS));
  localMem.rawRead.push(await peakLiveGrowth(() => drain(createReadStream(file, { highWaterMark: MB })), SAMPLE_MS));
  await rm(file, { force: true });
}

store.destroy();
await s3.stop();
await rm(dir, { recursive: true, force: true });

// ---- figures ----
const rate = (ms: number) => SIZE / MB / (ms / 1000);
for (const [what, t] of [["upload", up], ["download", down]] as const) {
  const w = [...t.weft].sort((a, b) => a - b);
  const r = [...t.raw].sort((a, b) => a - b);
  const note = what === "upload"
    ? "baseline: raw lib-storage Upload, same client, part size and queue size"
    : "weft: downloadToFile (.part, sha-256, fsync, rename); baseline: raw GetObject piped to a file";
  report({
    bench: BENCH,
    metric: `${what} 100 MB p50`,
    value: percentile(w, 50),
    unit: "ms",
    baseline: percentile(r, 50),
    note,
  });
  report({
    bench: BENCH,
    metric: `${what} 100 MB p95`,
    value: percentile(w, 95),
    unit: "ms",
    baseline: percentile(r, 95),
    note: `n=${RUNS}`,
  });
  report({
    bench: BENCH,
    metric: `${what} throughput at p50`,
    value: rate(percentile(w, 50)),
    unit: "MB/s",
    baseline: rate(percentile(r, 50)),
    note: "target ratio >= 0.8",
  });
}
const memory: Array<[string, number[], number[], string]> = [
  ["S3 upload", mem.weftUp, mem.rawUp, `raw lib-storage Upload (${QUEUE} x ${PART / MB} MiB parts)`],
  ["S3 download", mem.weftDown, mem.rawDown, "raw GetObject piped to a file"],
  ["local store write", localMem.weftWrite, localMem.rawWrite, "node:fs write stream"],
  ["local store read", localMem.weftRead, localMem.rawRead, "node:fs read stream, 1 MiB chunks"],
];
for (const [what, weft, raw, baseline] of memory) {
  report({
    bench: BENCH,
    metric: `peak live memory growth, 100 MB ${what}`,
    value: median(weft) / MB,
    unit: "MB",
    baseline: median(raw) / MB,
    note: `median of ${MEMORY_RUNS}; baseline: ${baseline}`,
  });
}
