/**
 * blockstore-fs with durable writes: its layout and reads as they are, but
 * each block is written to a temp file, fsynced, renamed into place and its
 * directory fsynced — blockstore-fs alone renames without fsync, so a
 * manifest whose CID a task already records could vanish in a power cut.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FsBlockstore } from "blockstore-fs";
import { NextToLast } from "blockstore-fs/sharding";
import type { CID } from "multiformats/cid";
import { concatBytes } from "#protocol";
import { fsyncDir, writeFileAtomic } from "../storage/atomic-file.ts";

export class DurableFsBlockstore extends FsBlockstore {
  readonly #layout: NextToLast;
  readonly #root: string;
  readonly #durableShards = new Set<string>();

  constructor(dir: string) {
    const layout = new NextToLast();
    super(dir, { shardingStrategy: layout });
    this.#layout = layout;
    this.#root = dir;
  }

  override async put(
    key: CID,
    value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<CID> {
    options?.signal?.throwIfAborted();
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else {
      const parts: Uint8Array[] = [];
      for await (const p of value) parts.push(p);
      bytes = concatBytes(...parts);
    }
    const { dir, file } = this.#layout.encode(key);
    const path = join(this.#root, dir, file);
    // The shard directory's entry must be durable too: fsync the root once per shard per process.
    await mkdir(dirname(path), { recursive: true });
    if (!this.#durableShards.has(dir)) {
      await fsyncDir(this.#root);
      this.#durableShards.add(dir);
    }
    await writeFileAtomic(path, bytes, 0o644);
    return key;
  }
}
