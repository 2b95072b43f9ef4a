/**
 * Resumable downloads to a file. Bytes go to `<file>.part`, hashed as they
 * arrive; a download that is interrupted — the network drops, the server
 * dies, the process is killed — leaves the part file, and the next attempt
 * (in this call, after a short back-off, or in a later run) re-hashes what
 * is there and asks only for the rest. Only bytes that match the expected
 * size and sha-256 are fsynced and renamed to the file; a mismatch removes
 * the part file, so nothing wrong is ever left under the final name.
 */
import { createReadStream } from "node:fs";
import { type FileHandle, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { ArtifactError, type Sha256Factory } from "#protocol/artifacts";
import { isWeftError } from "#protocol";
import { fsyncDir } from "../storage/atomic-file.ts";
import { nativeSha256Stream } from "../crypto/native-sha256.ts";

/** One request for the bytes from `offset` on, and the artifact's total size. */
export interface Opened {
  total: number;
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface DownloadOptions {
  /** The destination file. */
  path: string;
  sha256: string;
  /** The expected size, when known in advance (else the source's word for it, checked by the digest). */
  size?: number;
  open(offset: number, signal?: AbortSignal): Promise<Opened>;
  /** Attempts after the first when the transfer breaks (default 3). */
  retries?: number;
  /** Milliseconds before the first retry, doubling each time (default 200). */
  backoffMs?: number;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  hasher?: Sha256Factory;
}

export interface Downloaded {
  path: string;
  size: number;
  /** Bytes already on disk from an earlier, interrupted attempt. */
  resumedFrom: number;
}

/** Failures worth retrying: the transfer broke, not the request (which would fail the same way again). */
function transient(e: unknown): boolean {
  if (isWeftError(e)) return e.code === "artifact/store-unreachable" || e.code === "cli/unreachable";
  const err = e as { code?: string; name?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? "";
  return /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_\w+|ERR_STREAM_PREMATURE_CLOSE)$/.test(code) ||
    err.name === "TypeError"; // fetch reports a dropped connection as a TypeError
}

/** Bytes gathered before a write to the part file. */
const BATCH = 1024 * 1024;

/**
 * Appends to the part file in batches of about 1 MiB (one writev each,
 * not one write per network chunk), with one batch being written while
 * the next fills, so the disk and the network overlap. `drain` resolves
 * once everything added is in the file.
 */
class PartWriter {
  readonly #handle: FileHandle;
  #pending: Uint8Array[] = [];
  #bytes = 0;
  #writing: Promise<void> = Promise.resolve();
  #failed: { error: unknown } | undefined;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async add(chunk: Uint8Array): Promise<void> {
    this.#pending.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= BATCH) await this.#flush();
  }

  async #flush(): Promise<void> {
    await this.#writing;
    if (this.#failed) throw this.#failed.error;
    if (this.#bytes === 0) return;
    const buffers = this.#pending;
    const bytes = this.#bytes;
    this.#pending = [];
    this.#bytes = 0;
    this.#writing = this.#handle.writev(buffers).then(({ bytesWritten }) => {
      if (bytesWritten !== bytes) {
        throw new Error(`a short write to the part file: ${bytesWritten} of ${bytes} bytes (is the disk full?)`);
      }
    }).catch((error) => void (this.#failed = { error }));
  }

  async drain(): Promise<void> {
    await this.#flush();
    await this.#writing;
    if (this.#failed) throw this.#failed.error;
  }
}

export async function downloadToFile(options: DownloadOptions): Promise<Downloaded> {
  const part = `${options.path}.part`;
  const hash = (options.hasher ?? nativeSha256Stream)();
  let done = await stat(part).then((s) => s.size, () => 0);
  if (options.size !== undefined && done > options.size) {
    await rm(part, { force: true });
    done = 0;
  }
  const resumedFrom = done;
  if (done > 0) {
    for await (const chunk of createReadStream(part, { end: done - 1, highWaterMark: 1 << 20 })) hash.update(chunk);
  }
  let total = options.size;
  const handle = await open(part, "a", 0o644);
  const writer = new PartWriter(handle);
  try {
    for (let attempt = 0; total === undefined || done < total; attempt++) {
      try {
        const opened = await options.open(done, options.signal);
        if (total !== undefined && opened.total !== total) {
          throw new ArtifactError("artifact/digest-mismatch", `the source has ${opened.total} bytes, not ${total}`);
        }
        total = opened.total;
        if (done > total) throw new ArtifactError("artifact/digest-mismatch", `more than ${total} bytes arrived`);
        options.onProgress?.(done, total);
        try {
          for await (const chunk of opened.body) {
            options.signal?.throwIfAborted();
            if (done + chunk.length > total) {
              throw new ArtifactError("artifact/digest-mismatch", `more than the expected ${total} bytes arrived`);
            }
            hash.update(chunk);
            done += chunk.length;
            await writer.add(chunk);
            options.onProgress?.(done, total);
          }
        } finally {
          await writer.drain(); // what was hashed is in the file before any retry or the end
        }
        if (done < total) {
          throw Object.assign(new Error(`the transfer ended after ${done} of ${total} bytes`), {
            code: "ERR_STREAM_PREMATURE_CLOSE",
          });
        }
      } catch (e) {
        if (isWeftError(e, "artifact/digest-mismatch")) {
          await handle.close();
          await rm(part, { force: true });
          throw e;
        }
        if (options.signal?.aborted || attempt >= (options.retries ?? 3) || !transient(e)) throw e;
        await handle.sync();
        await new Promise((r) => setTimeout(r, (options.backoffMs ?? 200) * 2 ** attempt));
      }
    }
    const sha256 = hash.hex();
    if (sha256 !== options.sha256) {
      await handle.close();
      await rm(part, { force: true });
      throw new ArtifactError(
        "artifact/digest-mismatch",
        `the downloaded bytes hash to ${sha256}, not ${options.sha256}; the partial file was removed, so a retry starts over`,
      );
    }
    await handle.sync();
  } finally {
    await handle.close().catch(() => {});
  }
  await rename(part, options.path);
  await fsyncDir(dirname(options.path));
  return { path: options.path, size: total, resumedFrom };
}
