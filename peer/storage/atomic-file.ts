/**
 * Durable, atomic file replacement: write a temp file beside the target,
 * fsync it, rename it over the target, fsync the directory. A crash at any
 * point leaves either the old file or the new one, never a torn mix, and
 * once this resolves the new content survives power loss.
 * `createFileExclusive` does the same but never replaces an existing file.
 */
import { link, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write `data` to a fresh fsynced temp file beside `path`; returns its name. */
async function writeTemp(path: string, data: Uint8Array | string, mode: number): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  const handle = await open(tmp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  return tmp;
}

export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(path, data, mode);
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}

/** Like writeFileAtomic, but rejects with EEXIST if `path` already exists. */
export async function createFileExclusive(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(path, data, mode);
  try {
    await link(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(dirname(path));
}
