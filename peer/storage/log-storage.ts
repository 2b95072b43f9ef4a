/**
 * A durable automerge-repo StorageAdapter for the peer: an append-only,
 * checksummed log with group commit.
 *
 * Every save or remove appends a record; records queued while a write is in
 * flight go out together in one write and one fdatasync, and a call resolves
 * only after its record is on disk. So `repo.flush()` returning means the
 * data survives `kill -9` and power loss, at one fsync per batch rather than
 * per document. On open the log is replayed into memory; a torn last record
 * (a crash mid-write) fails its checksum and is cut off. When the log holds
 * much more than the live data it is rewritten (atomically) with live data only.
 *
 * Record: u32 length, u32 crc32(body), body = u8 type, u16 key length, key, data.
 */
import { type FileHandle, mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate } from "node:timers";
import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import { fromUtf8, utf8, WeftError } from "#protocol";
import { crc32 } from "./crc32.ts";
import { KeyIndex } from "#protocol/storage";
import { fsyncDir } from "./atomic-file.ts";

const PUT = 1;
const DELETE = 2;
const DELETE_RANGE = 3;
const SEP = "\u0000";
const HEADER = 8;
const MAX_RECORD = 256 * 1024 * 1024;

interface Pending {
  record: Uint8Array;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class StorageError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("StorageError", "storage/io", message, options);
  }
}

function encodeRecord(type: number, key: string, data?: Uint8Array): Uint8Array {
  const k = utf8(key);
  const bodyLen = 3 + k.length + (data?.length ?? 0);
  const out = new Uint8Array(HEADER + bodyLen);
  const view = new DataView(out.buffer);
  view.setUint32(0, bodyLen);
  out[HEADER] = type;
  view.setUint16(HEADER + 1, k.length);
  out.set(k, HEADER + 3);
  if (data) out.set(data, HEADER + 3 + k.length);
  view.setUint32(4, crc32(out, HEADER, out.length));
  return out;
}

export interface LogStorageOptions {
  /** Directory for the log (created if missing). */
  dir: string;
  /** Rewrite the log when it exceeds this many bytes and 3x the live data. */
  compactAt?: number;
}

export class LogStorageAdapter implements StorageAdapterInterface {
  readonly #data = new KeyIndex();
  readonly #path: string;
  readonly #dir: string;
  readonly #compactAt: number;
  #file!: FileHandle;
  #size = 0;
  #live = 0;
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;

  private constructor(options: LogStorageOptions) {
    this.#dir = options.dir;
    this.#path = join(options.dir, "docs.log");
    this.#compactAt = options.compactAt ?? 64 * 1024 * 1024;
  }

  static async open(options: LogStorageOptions): Promise<LogStorageAdapter> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const s = new LogStorageAdapter(options);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(s.#path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new StorageError(`cannot read ${s.#path}`, { cause: e });
      }
      bytes = new Uint8Array();
    }
    const good = s.#replay(bytes);
    s.#file = await open(s.#path, "a+", 0o600);
    if (good < bytes.length) {
      // A torn or corrupt tail (crash mid-write): cut it off so new records follow good ones.
      await s.#file.truncate(good);
      await s.#file.sync();
    }
    s.#size = good;
    return s;
  }

  /** Apply records; returns the length of the valid prefix. */
  #replay(bytes: Uint8Array): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;
    while (pos + HEADER <= bytes.length) {
      const len = view.getUint32(pos);
      const end = pos + HEADER + len;
      if (len < 3 || len > MAX_RECORD || end > bytes.length) break;
      if (crc32(bytes, pos + HEADER, end) !== view.getUint32(pos + 4)) break;
      const type = bytes[pos + HEADER];
      const keyLen = view.getUint16(pos + HEADER + 1);
      const keyStart = pos + HEADER + 3;
      if (keyStart + keyLen > end) break;
      const key = fromUtf8(bytes.subarray(keyStart, keyStart + keyLen));
      this.#apply(type, key, bytes.slice(keyStart + keyLen, end));
      pos = end;
    }
    return pos;
  }

  #apply(type: number, key: string, data: Uint8Array): void {
    const parts = key.split(SEP);
    if (type === PUT) {
      this.#live += data.length - (this.#data.set(parts, data)?.length ?? 0);
    } else if (type === DELETE) {
      this.#live -= this.#data.delete(parts)?.length ?? 0;
    } else if (type === DELETE_RANGE) {
      for (const c of [...this.#data.range(key === "" ? [] : parts)]) {
        this.#live -= this.#data.delete(c.key)?.length ?? 0;
      }
    }
  }

  /** Append a record, update memory, resolve when durable. */
  #append(type: number, key: string, data?: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new StorageError("storage is closed"));
    this.#apply(type, key, data ?? new Uint8Array());
    const record = encodeRecord(type, key, data);
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      this.#writing ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    // Let callers in the same turn join this batch. Not a timer: a timer waits at least 1 ms (4 ms when nested, on
    // Deno), and with about one batch per operation written that wait was most of a busy node's time.
    await new Promise((r) => setImmediate(r));
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      let total = 0;
      for (const p of batch) total += p.record.length;
      const buf = new Uint8Array(total);
      let o = 0;
      for (const p of batch) {
        buf.set(p.record, o);
        o += p.record.length;
      }
      try {
        await this.#file.write(buf, 0, buf.length, null);
        await this.#file.datasync();
        this.#size += buf.length;
        for (const p of batch) p.resolve();
      } catch (e) {
        const err = new StorageError(`writing ${this.#path} failed: ${(e as Error).message}`, { cause: e });
        for (const p of batch) p.reject(err);
      }
      if (this.#size > this.#compactAt && this.#size > 3 * this.#live) await this.#compact();
    }
    this.#writing = undefined;
  }

  /** Rewrite the log with live data only: temp file, fsync, rename, fsync dir. */
  async #compact(): Promise<void> {
    const tmp = this.#path + ".compact";
    const out = await open(tmp, "w", 0o600);
    let size = 0;
    try {
      for (const { key, data } of this.#data.range([])) {
        const r = encodeRecord(PUT, key.join(SEP), data);
        await out.write(r, 0, r.length, null);
        size += r.length;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    await this.#file.close();
    await rename(tmp, this.#path);
    await fsyncDir(this.#dir);
    this.#file = await open(this.#path, "a+", 0o600);
    this.#size = size;
  }

  load(key: StorageKey): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#data.get(key));
  }

  save(key: StorageKey, data: Uint8Array): Promise<void> {
    return this.#append(PUT, key.join(SEP), data.slice());
  }

  remove(key: StorageKey): Promise<void> {
    if (this.#data.get(key) === undefined) return Promise.resolve();
    return this.#append(DELETE, key.join(SEP));
  }

  loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return Promise.resolve([...this.#data.range(prefix)]);
  }

  removeRange(prefix: StorageKey): Promise<void> {
    return this.#append(DELETE_RANGE, prefix.join(SEP));
  }

  /** Bytes on disk and bytes of live data. */
  get stats(): { fileBytes: number; liveBytes: number; keys: number } {
    return { fileBytes: this.#size, liveBytes: this.#live, keys: this.#data.size };
  }

  /** Wait for queued writes, then close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#writing) await this.#writing;
    this.#closed = true;
    await this.#file.close();
  }
}
