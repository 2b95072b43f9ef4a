/**
 * A run's result as outputs: every regular file of every output store
 * path, named `<output>/<path inside it>` (or `<output>` when the output is
 * a single file), or of a dev-shell command's output directory (named by
 * their path inside it), described exactly (size, sha-256, CID) and put
 * in the content store. Sizes are summed from the file system before a byte
 * is read, so an output past the run's limit is refused, not loaded.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type ContentStore, type OutputFile, RUN_PATH } from "#protocol/runner";

export class OutputTooLarge extends Error {}

interface Found {
  path: string;
  file: string;
  size: number;
}

async function walk(dir: string, name: string, found: Found[], skipped: string[]): Promise<void> {
  const st = await lstat(dir);
  if (st.isSymbolicLink()) return void skipped.push(name);
  if (st.isFile()) return void found.push({ path: name, file: dir, size: st.size });
  if (!st.isDirectory()) return void skipped.push(name);
  for (const entry of (await readdir(dir)).sort()) {
    await walk(join(dir, entry), name === "" ? entry : `${name}/${entry}`, found, skipped);
  }
}

/**
 * Describes and stores the files under each root (`name` "" names files by their path inside `dir`).
 * Throws OutputTooLarge past `maxBytes`; symlinks and names that are not run paths are listed in `skipped`.
 */
export async function collectOutputs(
  roots: ReadonlyArray<{ name: string; dir: string }>,
  store: ContentStore,
  maxBytes: number,
): Promise<{ files: OutputFile[]; skipped: string[] }> {
  const found: Found[] = [];
  const skipped: string[] = [];
  for (const root of roots) await walk(root.dir, root.name, found, skipped);
  const total = found.reduce((a, f) => a + f.size, 0);
  if (total > maxBytes) throw new OutputTooLarge(`the build's outputs hold ${total} bytes; the limit left ${maxBytes}`);
  const files: OutputFile[] = [];
  for (const f of found) {
    if (!RUN_PATH.test(f.path)) {
      skipped.push(f.path);
      continue;
    }
    const bytes = await readFile(f.file);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    files.push({ path: f.path, size: bytes.length, sha256, cid: await store.put(bytes) });
  }
  return { files, skipped };
}
