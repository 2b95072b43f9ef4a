/**
 * A small durable datastore for helia's pins (and its version record):
 * one file per key, named by the key's base64url, written with fsync and
 * an atomic rename. Pins are few and small; what matters is that a pin
 * acknowledged survives a crash, which helia's in-memory default does not.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { BaseDatastore } from "datastore-core";
import { Key, type KeyQuery, type Pair, type Query } from "interface-datastore";
import { NotFoundError } from "interface-store";
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "#protocol";
import { fsyncDir, writeFileAtomic } from "../storage/atomic-file.ts";

export class FsDatastore extends BaseDatastore {
  readonly #dir: string;

  constructor(dir: string) {
    super();
    this.#dir = dir;
  }

  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  #file(key: Key): string {
    return join(this.#dir, toBase64Url(utf8(key.toString())));
  }

  override async put(key: Key, value: Uint8Array): Promise<Key> {
    await writeFileAtomic(this.#file(key), value, 0o600);
    return key;
  }

  override async get(key: Key): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.#file(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`no ${key} in the datastore`);
      throw e;
    }
  }

  override async has(key: Key): Promise<boolean> {
    return await readFile(this.#file(key)).then(() => true, () => false);
  }

  override async delete(key: Key): Promise<void> {
    await rm(this.#file(key), { force: true });
    await fsyncDir(this.#dir);
  }

  async *#keys(prefix: string | undefined): AsyncGenerator<Key> {
    for (const name of (await readdir(this.#dir)).sort()) {
      if (name.startsWith(".")) continue; // a write in progress
      const key = fromUtf8(fromBase64Url(name));
      if (prefix === undefined || key.startsWith(prefix)) yield new Key(key);
    }
  }

  override async *_all(q: Query): AsyncGenerator<Pair> {
    for await (const key of this.#keys(q.prefix)) {
      try {
        yield { key, value: await this.get(key) };
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e; // deleted meanwhile
      }
    }
  }

  override async *_allKeys(q: KeyQuery): AsyncGenerator<Key> {
    yield* this.#keys(q.prefix);
  }
}
