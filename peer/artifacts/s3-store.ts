/**
 * Artifacts in an S3-compatible bucket, content-addressed under
 * `<prefix>sha256/<hex>`. Uploads stream through @aws-sdk/lib-storage
 * multipart (memory bounded by part size × queue size, whatever the file
 * size) while the sha-256 is computed on the way; a digest or size that
 * does not match fails the upload before it completes, so nothing wrong is
 * ever visible under a digest. Without a digest up front, bytes go to an
 * `incoming/` key and are copied under their digest once known. Reads are
 * ranged, so downloads resume.
 */
import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  ArtifactError,
  type ArtifactStore,
  type PutOptions,
  rawCid,
  type S3Location,
  type Sha256Factory,
  type StoredArtifact,
} from "#protocol/artifacts";
import { announced, checkSha256 } from "./local-store.ts";
import { nativeSha256Stream } from "../crypto/native-sha256.ts";
import type { S3Settings } from "./s3-config.ts";
import { storeError } from "./s3-errors.ts";

/**
 * Bytes are handed to lib-storage in views of at most this size (no copy).
 * It gathers chunks until it has more than a part and copies them into one
 * buffer that the part, and the remainder carried into the next, then keep
 * alive: with 1 MiB chunks each part in flight holds 6 MiB, with 256 KiB
 * views 5.25 MiB (see tests/bench/artifacts-transfer.bench.ts).
 */
const SLICE = 256 * 1024;

export interface S3StoreOptions {
  hasher?: Sha256Factory;
  /** Multipart part size (default 5 MiB, S3's minimum; live memory is about (queueSize + 1) parts). */
  partSize?: number;
  /** Parts uploaded at once (default 4). */
  queueSize?: number;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = "s3" as const;
  readonly client: S3Client;
  readonly settings: S3Settings;
  readonly #hasher: Sha256Factory;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #where: { endpoint: string; bucket: string };

  constructor(settings: S3Settings, options: S3StoreOptions = {}) {
    this.settings = settings;
    this.#hasher = options.hasher ?? nativeSha256Stream;
    this.#partSize = options.partSize ?? 5 * 1024 * 1024;
    this.#queueSize = options.queueSize ?? 4;
    this.#where = { endpoint: settings.endpoint ?? `AWS S3 (${settings.region})`, bucket: settings.bucket };
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.accessKeyId && settings.secretAccessKey
        ? {
          credentials: {
            accessKeyId: settings.accessKeyId,
            secretAccessKey: settings.secretAccessKey,
            ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
          },
        }
        : {}),
      // Streamed bodies cannot carry a trailing checksum everywhere (and some
      // servers store its chunk framing); Weft checks sha-256 itself.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
    });
  }

  key(sha256: string): string {
    return `${this.settings.prefix}sha256/${checkSha256(sha256)}`;
  }

  location(sha256: string): S3Location {
    return { store: "s3", bucket: this.settings.bucket, key: this.key(sha256) };
  }

  /** Check that the bucket exists and the credentials work (e.g. at start-up). */
  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }), { abortSignal: signal });
    } catch (e) {
      if (signal?.aborted) {
        throw new ArtifactError(
          "artifact/store-unreachable",
          `bucket check: the S3 endpoint ${this.#where.endpoint} did not answer in time`,
          { cause: e },
        );
      }
      throw storeError(e, "bucket check", this.#where);
    }
  }

  async stat(sha256: string, options: { signal?: AbortSignal } = {}): Promise<{ size: number } | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256) }),
        { abortSignal: options.signal },
      );
      return { size: head.ContentLength ?? 0 };
    } catch (e) {
      if ((e as { name?: string }).name === "NotFound") return undefined;
      throw storeError(e, `stat of ${this.key(sha256)}`, this.#where);
    }
  }

  async write(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<StoredArtifact> {
    const { sha256: expected, held } = await announced(this, options);
    if (expected !== undefined && held !== undefined) return this.#stored(expected, held);
    const key = expected !== undefined ? this.key(expected) : `${this.settings.prefix}incoming/${crypto.randomUUID()}`;
    const hash = this.#hasher();
    let size = 0;
    let refused: Error | undefined;
    let digest = "";
    const limit = options.size;
    const checked = async function* () {
      for await (const chunk of source) {
        size += chunk.length;
        if (limit !== undefined && size > limit) {
          throw refused = new ArtifactError("artifact/digest-mismatch", `more than the announced ${limit} bytes`);
        }
        hash.update(chunk);
        for (let i = 0; i < chunk.length; i += SLICE) yield chunk.subarray(i, i + SLICE);
      }
      // Checked before the last part is sent, so a mismatch never completes the upload.
      if (limit !== undefined && size !== limit) {
        throw refused = new ArtifactError("artifact/digest-mismatch", `${size} bytes arrived, ${limit} were announced`);
      }
      const sha256 = hash.hex();
      if (expected !== undefined && sha256 !== expected) {
        throw refused = new ArtifactError(
          "artifact/digest-mismatch",
          `the bytes hash to ${sha256}, not the announced ${expected}`,
        );
      }
      digest = sha256;
    };
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: key,
        Body: Readable.from(checked(), { objectMode: false }),
        ContentType: "application/octet-stream",
        ...(expected !== undefined ? { Metadata: { sha256: expected } } : {}),
      },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    const abort = () => void upload.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    if (options.onProgress) upload.on("httpUploadProgress", (p) => options.onProgress!(p.loaded ?? 0));
    try {
      await upload.done();
    } catch (e) {
      // A refused body can surface as the failed multipart abort; report the cause.
      throw refused ?? storeError(e, `upload of ${key}`, this.#where);
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
    if (expected === undefined) await this.#settle(key, digest);
    return this.#stored(digest, size);
  }

  /** Move an upload whose digest was learned on the way under its content address. */
  async #settle(incoming: string, sha256: string): Promise<void> {
    const final = this.key(sha256);
    try {
      if (!(await this.stat(sha256))) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.settings.bucket,
            Key: final,
            CopySource: `${this.settings.bucket}/${incoming.split("/").map(encodeURIComponent).join("/")}`,
            MetadataDirective: "REPLACE",
            ContentType: "application/octet-stream",
            Metadata: { sha256 },
          }),
        );
      }
      await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: incoming }));
    } catch (e) {
      throw storeError(e, `copy of ${incoming} to ${final}`, this.#where);
    }
  }

  #stored(sha256: string, size: number): StoredArtifact {
    return { sha256, size, cid: rawCid(sha256), location: this.location(sha256) };
  }

  async read(
    sha256: string,
    options: { offset?: number; signal?: AbortSignal } = {},
  ): Promise<AsyncIterable<Uint8Array>> {
    const key = this.key(sha256);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          ...(options.offset ? { Range: `bytes=${options.offset}-` } : {}),
        }),
        { abortSignal: options.signal },
      );
      const body = res.Body as Readable | undefined;
      if (!body) throw new ArtifactError("artifact/digest-mismatch", `${key} came back without a body`);
      return this.#mapped(body, key);
    } catch (e) {
      throw storeError(e, `read of ${key}`, this.#where);
    }
  }

  /** The body, with network failures mid-stream reported like any other store error. */
  async *#mapped(body: AsyncIterable<Uint8Array>, key: string): AsyncIterable<Uint8Array> {
    try {
      yield* body;
    } catch (e) {
      throw storeError(e, `read of ${key}`, this.#where);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
