/**
 * The embedded artifact store: a content-addressed directory under the
 * peer's data dir, `objects/<first two hex>/<sha-256>`. A put streams into
 * a temp file while hashing, fsyncs it, renames it under its digest and
 * fsyncs the directory, so a put that resolved survives a crash and a put
 * that did not leaves nothing behind. It is also the runners' ContentStore.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ContentStore } from "#protocol/runner";
import {
  ArtifactError,
  type ArtifactStore,
  type LocalLocation,
  type PutOptions,
  rawCid,
  SHA256_HEX,
  type Sha256Factory,
  sha256OfCid,
  type StoredArtifact,
} from "#protocol/artifacts";
import { WeftError } from "#protocol";
import { InvalidInput } from "#protocol/schema";
import { fsyncDir } from "../storage/atomic-file.ts";
import { nativeSha256Stream } from "../crypto/native-sha256.ts";

const READ_CHUNK = 1024 * 1024;

export function checkSha256(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new InvalidInput("sha256", "must be 64 lowercase hex characters");
  return sha256;
}

/**
 * The sha-256 a put announces (checked), and the size of those bytes when
 * `store` already holds them at the announced size: a put it can skip.
 */
export async function announced(
  store: Pick<ArtifactStore, "stat">,
  options: PutOptions,
): Promise<{ sha256?: string; held?: number }> {
  if (options.sha256 === undefined) return {};
  const sha256 = checkSha256(options.sha256);
  const have = await store.stat(sha256, options.signal ? { signal: options.signal } : {});
  const same = have !== undefined && (options.size === undefined || have.size === options.size);
  return same ? { sha256, held: have.size } : { sha256 };
}

export function notFound(what: string): WeftError {
  return new WeftError("NotFound", "not-found", `${what} is not stored here`);
}

export interface LocalStoreOptions {
  /** The store's directory, e.g. `<data dir>/artifacts`. */
  dir: string;
  /** This node's DID, recorded in locations. */
  node: string;
  hasher?: Sha256Factory;
}

export class LocalArtifactStore implements ArtifactStore, ContentStore {
  readonly kind = "local" as const;
  readonly dir: string;
  readonly #node: string;
  readonly #hasher: Sha256Factory;

  private constructor(options: LocalStoreOptions) {
    this.dir = options.dir;
    this.#node = options.node;
    this.#hasher = options.hasher ?? nativeSha256Stream;
  }

  /** Open (creating) the store; temp files of puts a crash interrupted are removed. */
  static async open(options: LocalStoreOptions): Promise<LocalArtifactStore> {
    const store = new LocalArtifactStore(options);
    await mkdir(join(store.dir, "objects"), { recursive: true, mode: 0o700 });
    await mkdir(join(store.dir, "tmp"), { recursive: true, mode: 0o700 });
    for (const name of await readdir(join(store.dir, "tmp"))) await rm(join(store.dir, "tmp", name), { force: true });
    return store;
  }

  #path(sha256: string): string {
    return join(this.dir, "objects", sha256.slice(0, 2), sha256);
  }

  location(): LocalLocation {
    return { store: "local", node: this.#node };
  }

  async stat(sha256: string): Promise<{ size: number } | undefined> {
    try {
      return { size: (await stat(this.#path(checkSha256(sha256)))).size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async write(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<StoredArtifact> {
    const { sha256: expected, held } = await announced(this, options);
    if (expected !== undefined && held !== undefined) return this.#stored(expected, held);
    const tmp = join(this.dir, "tmp", crypto.randomUUID());
    const handle = await open(tmp, "wx", 0o644);
    let size = 0;
    let sha256: string;
    try {
      const hash = this.#hasher();
      for await (const chunk of source) {
        options.signal?.throwIfAborted();
        size += chunk.length;
        if (options.size !== undefined && size > options.size) {
          throw new ArtifactError("artifact/digest-mismatch", `more than the announced ${options.size} bytes`);
        }
        hash.update(chunk);
        await handle.write(chunk);
        options.onProgress?.(size);
      }
      sha256 = hash.hex();
      if (options.size !== undefined && size !== options.size) {
        throw new ArtifactError("artifact/digest-mismatch", `${size} bytes arrived, ${options.size} were announced`);
      }
      if (expected !== undefined && sha256 !== expected) {
        throw new ArtifactError(
          "artifact/digest-mismatch",
          `the bytes hash to ${sha256}, not the announced ${expected}`,
        );
      }
      await handle.sync();
      await handle.close();
    } catch (e) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
    const final = this.#path(sha256);
    const shard = join(this.dir, "objects", sha256.slice(0, 2));
    try {
      await mkdir(shard, { recursive: true, mode: 0o700 });
      await fsyncDir(join(this.dir, "objects"));
      await rename(tmp, final);
      await fsyncDir(shard);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return this.#stored(sha256, size);
  }

  #stored(sha256: string, size: number): StoredArtifact {
    return { sha256, size, cid: rawCid(sha256), location: this.location() };
  }

  async read(
    sha256: string,
    options: { offset?: number; signal?: AbortSignal } = {},
  ): Promise<AsyncIterable<Uint8Array>> {
    const handle = await open(this.#path(checkSha256(sha256)), "r").catch((e) => {
      throw (e as NodeJS.ErrnoException).code === "ENOENT" ? notFound(`artifact ${sha256}`) : e;
    });
    return handle.createReadStream({
      start: options.offset ?? 0,
      highWaterMark: READ_CHUNK,
      ...(options.signal ? { signal: options.signal } : {}),
    }) as AsyncIterable<Uint8Array>;
  }

  // ---- ContentStore: what runners read inputs from and write outputs to ----

  async put(bytes: Uint8Array): Promise<string> {
    return (await this.write([bytes])).cid;
  }

  /** The bytes of a raw-codec CID, or undefined if not stored here. */
  async get(cid: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.#path(sha256OfCid(cid))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
}
