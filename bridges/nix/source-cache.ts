/**
 * Run sources unpacked once per CID and kept for the builds that follow.
 * Writing a source is most of what a nix build costs before nix starts (a
 * few hundred files, 130–550 ms on a busy disk, where a direct `nix-build`
 * has its tree on disk already); a build only reads its source, so every
 * build of the same CID (a re-run, `--check`, another output of the same
 * commit) evaluates the one tree. A tree is checked and written beside the
 * cache, then renamed to its CID in one step, so a name that exists holds
 * exactly that CID's files. Trees in use are never removed; the least
 * recently used others go once the cache passes its byte budget. Dev-shell
 * commands write into their source, so they get a copy of their own
 * (job.ts), never a cached tree.
 */
import { mkdir, readdir, rename, rm, stat, statfs, utimes } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";
import { CID } from "#protocol/codec";
import { type ContentStore, readSource } from "#protocol/runner";
import { writeSourceTree } from "../../peer/source/tree.ts";
import { fetchVerified } from "../../wasm-runners/core/content.ts";

export interface CachedSource {
  /** The unpacked tree: read it, never write it. */
  readonly dir: string;
  /** The run no longer reads the tree; it may be evicted. */
  release(): void;
}

/** A tree's directory name: its CID, in the one canonical text form (so one CID is one directory). */
function dirName(cid: string): string {
  let parsed: CID;
  try {
    parsed = CID.parse(cid);
  } catch {
    throw new WeftError("InvalidSpec", "runner/spec-invalid", `source ${cid.slice(0, 80)} is not a CID`);
  }
  if (parsed.toString() !== cid || !/^[a-z0-9]+$/.test(cid)) {
    throw new WeftError("InvalidSpec", "runner/spec-invalid", `source ${cid.slice(0, 80)} is not a canonical CIDv1`);
  }
  return cid;
}

/** statfs's type of a tmpfs. */
const TMPFS_MAGIC = 0x01021994;
/** Where a runner's trees go by default when /dev/shm is a tmpfs with room for them. */
const SHARED_MEMORY = "/dev/shm";

/**
 * Where a runner's source cache lives: `configured` if set; else on the tmpfs at /dev/shm (`weft-nix-sources-<group>`,
 * one per runner) when it is one and has at least twice the cache's budget free; else `fallback` in the state dir.
 * The cache is scratch (it starts empty at every start), and a tree's few hundred files and symlinks are created in
 * memory in a few ms, where on a disk each is a journalled metadata write: 1 ms apiece here while other processes
 * fsync, 190–435 ms for the bench's 271-entry tree, longer than the whole build it is for. Its budget is then memory.
 */
export async function sourceCacheDir(
  configured: string | undefined,
  group: string,
  maxBytes: number,
  fallback: string,
): Promise<string> {
  if (configured) return configured;
  const fs = await statfs(SHARED_MEMORY).catch(() => undefined);
  const free = fs ? fs.bavail * fs.bsize : 0;
  return fs?.type === TMPFS_MAGIC && free >= 2 * maxBytes ? join(SHARED_MEMORY, `weft-nix-sources-${group}`) : fallback;
}

export class SourceCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  /** Whether the cache is on a tmpfs, where trees are written without the file-system threads (tree.ts). */
  readonly #inMemory: boolean;
  /** Bytes of each cached tree (files' sizes), and how many runs read it now. */
  readonly #trees = new Map<string, { bytes: number; users: number }>();
  readonly #pending = new Map<string, Promise<void>>();

  private constructor(dir: string, maxBytes: number, inMemory: boolean) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#inMemory = inMemory;
  }

  /**
   * The cache at `dir`: what a previous start left is dropped (its sizes are unknown, and a crash may
   * have left half-written trees beside it), so the cache always starts empty.
   */
  static async open(dir: string, maxBytes: number): Promise<SourceCache> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return new SourceCache(dir, maxBytes, (await statfs(dir)).type === TMPFS_MAGIC);
  }

  /** Where the tree of source `cid` is (or will be) kept; throws unless `cid` is a canonical CID. */
  dirOf(cid: string): string {
    return join(this.#dir, dirName(cid));
  }

  /**
   * The tree of source `cid`, unpacked now unless it is cached; hold it until release(). It is unpacked from
   * `bytes` when given (the caller has checked they hash to `cid`: Runner.stageSource), else fetched from `store`
   * and checked.
   */
  async acquire(cid: string, store: ContentStore, bytes?: Uint8Array): Promise<CachedSource> {
    const name = dirName(cid);
    const known = this.#trees.get(name);
    // Kept trees are only ever removed by this cache, but another runner opened on the same state dir clears them.
    if (known?.users === 0 && !(await stat(join(this.#dir, name)).catch(() => undefined))) this.#trees.delete(name);
    while (!this.#trees.has(name)) {
      let pending = this.#pending.get(name);
      if (!pending) {
        const source = bytes ?? (() => fetchVerified(store, name, "source"));
        pending = this.#unpack(name, source).finally(() => this.#pending.delete(name));
        this.#pending.set(name, pending);
      }
      await pending;
    }
    const tree = this.#trees.get(name)!;
    tree.users++;
    const dir = join(this.#dir, name);
    // The tree's mtime is when a run last used it: the eviction order.
    await utimes(dir, new Date(), new Date()).catch(() => {});
    let released = false;
    return {
      dir,
      release: () => {
        if (released) return;
        released = true;
        tree.users--;
        void this.#evict();
      },
    };
  }

  async #unpack(name: string, source: Uint8Array | (() => Promise<Uint8Array>)): Promise<void> {
    const entries = readSource(typeof source === "function" ? await source() : source);
    const work = join(this.#dir, `.${name}.${crypto.randomUUID()}`);
    try {
      // Another runner on the same state dir may have closed, and removed the cache, since this one opened it.
      await mkdir(this.#dir, { recursive: true });
      await writeSourceTree(work, entries, { inMemory: this.#inMemory });
      await rename(work, join(this.#dir, name));
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw e;
    }
    let bytes = 0;
    for (const e of entries) bytes += e.kind === "file" ? e.bytes.length : 0;
    this.#trees.set(name, { bytes, users: 0 });
  }

  /** Removes the least recently used trees no run holds while the cache is over its budget. */
  async #evict(): Promise<void> {
    let total = 0;
    for (const t of this.#trees.values()) total += t.bytes;
    if (total <= this.#maxBytes) return;
    const idle = [...this.#trees].filter(([, t]) => t.users === 0).map(([name]) => name);
    const used = await Promise.all(
      idle.map(async (name) => ({
        name,
        at: (await stat(join(this.#dir, name)).catch(() => undefined))?.mtimeMs ?? 0,
      })),
    );
    for (const { name } of used.sort((a, b) => a.at - b.at)) {
      if (total <= this.#maxBytes) break;
      const tree = this.#trees.get(name);
      if (!tree || tree.users > 0) continue;
      this.#trees.delete(name);
      total -= tree.bytes;
      // Out of the CID's name in one step, so a run unpacking it again meanwhile finds the name free.
      const gone = join(this.#dir, `.${name}.evicted.${crypto.randomUUID()}`);
      await rename(join(this.#dir, name), gone).catch(() => {});
      await rm(gone, { recursive: true, force: true });
    }
  }

  /** Removes every tree (the runner is closing; a tmpfs cache would hold its memory until the next start). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#pending.values());
    this.#trees.clear();
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** The CIDs cached now (for tests and `weft nix gc`'s report). */
  cached(): Promise<string[]> {
    return readdir(this.#dir).then((names) => names.filter((n) => !n.startsWith(".")).sort());
  }
}
