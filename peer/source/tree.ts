/**
 * Source trees on disk, for the packing in #protocol/runner (source.ts):
 * read a local directory, or a git commit's tree through the system git
 * (what `git archive` would give, with the commit recorded), into entries;
 * and write checked entries into a new directory for a run to build in.
 */
import { execFile, spawn } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { WeftError } from "#protocol";
import { checkSourcePath, DEFAULT_SOURCE_LIMITS, type SourceEntry, type SourceLimits } from "#protocol/runner";

const run = promisify(execFile);

function refused(message: string): WeftError {
  return new WeftError("InvalidSource", "runner/source-invalid", message);
}

/**
 * The regular files, executable bits and symlinks under `dir`, with paths relative to it. `.git` is left
 * out; anything else that is not a file, directory or symlink (a socket, a device) is refused.
 */
export async function readDirectoryTree(dir: string, limits = DEFAULT_SOURCE_LIMITS): Promise<SourceEntry[]> {
  const entries: SourceEntry[] = [];
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      if (rel === "" && name === ".git") continue;
      const path = rel === "" ? name : `${rel}/${name}`;
      checkSourcePath(path);
      const full = join(dir, path);
      const st = await lstat(full);
      if (st.isDirectory()) {
        await walk(path);
        continue;
      }
      if (entries.length >= limits.maxEntries) throw refused(`${dir} has more than ${limits.maxEntries} entries`);
      if (st.isSymbolicLink()) entries.push({ path, kind: "symlink", target: await readlink(full) });
      else if (st.isFile()) {
        bytes += st.size;
        if (bytes > limits.maxBytes) throw refused(`${dir} holds more than ${limits.maxBytes} bytes`);
        entries.push({ path, kind: "file", executable: (st.mode & 0o100) !== 0, bytes: await readFile(full) });
      } else throw refused(`${full} is neither a file, a directory nor a symlink; remove it or pack another tree`);
    }
  };
  await walk("");
  return entries;
}

/** Reads blobs by id through one `git cat-file --batch` process. */
async function readBlobs(repo: string, ids: string[]): Promise<Uint8Array[]> {
  const child = spawn("git", ["-C", repo, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdin.end(ids.map((id) => `${id}\n`).join(""));
  if (await exited !== 0) throw refused(`git cat-file failed in ${repo}`);
  const out = Buffer.concat(chunks);
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (const id of ids) {
    const eol = out.indexOf(10, at);
    const [got, type, size] = out.subarray(at, eol).toString().split(" ");
    if (got !== id || type !== "blob") throw refused(`git object ${id} is not a blob in ${repo}`);
    blobs.push(out.subarray(eol + 1, eol + 1 + Number(size)));
    at = eol + 1 + Number(size) + 1;
  }
  return blobs;
}

/** A commit's whole tree (files, executable bits, symlinks) and the full commit id; submodules are refused. */
export async function readGitTree(
  repo: string,
  rev = "HEAD",
  limits: SourceLimits = DEFAULT_SOURCE_LIMITS,
): Promise<{ commit: string; entries: SourceEntry[] }> {
  const commit =
    (await run("git", ["-C", repo, "rev-parse", "--verify", "--end-of-options", `${rev}^{commit}`]).catch(() => {
      throw refused(`${rev} is not a commit in ${repo}`);
    })).stdout.trim();
  const listing = (await run("git", ["-C", repo, "ls-tree", "-r", "-z", "--full-tree", "--long", commit], {
    maxBuffer: 64 * 1024 * 1024,
  })).stdout.split("\0").filter((l) => l !== "");
  if (listing.length > limits.maxEntries) throw refused(`${commit} has more than ${limits.maxEntries} entries`);
  const rows = listing.map((line) => {
    const tab = line.indexOf("\t");
    const [mode, , id, size] = line.slice(0, tab).split(/ +/);
    const path = line.slice(tab + 1);
    if (mode === "160000") throw refused(`${path} is a submodule; Weft packs one repository's tree only`);
    checkSourcePath(path);
    return { mode, id, size: Number(size), path };
  });
  const bytes = rows.reduce((a, r) => a + (r.size || 0), 0);
  if (bytes > limits.maxBytes) throw refused(`${commit} holds more than ${limits.maxBytes} bytes`);
  const blobs = await readBlobs(repo, rows.map((r) => r.id));
  const entries = rows.map((r, i): SourceEntry =>
    r.mode === "120000"
      ? { path: r.path, kind: "symlink", target: Buffer.from(blobs[i]).toString() }
      : { path: r.path, kind: "file", executable: r.mode === "100755", bytes: blobs[i] }
  );
  return { commit, entries };
}

/**
 * Files and symlinks written at once by writeSourceTree: twice libuv's 4 file-system threads, so they stay busy
 * without queueing a claim's durable write (made alongside, see Runner.prepare) behind a whole tree.
 */
const WRITES_AT_ONCE = 8;

/**
 * Into memory (a tmpfs), entries are written here a slice per turn of the event loop (at most MEMORY_SLICE entries
 * or MEMORY_SLICE_BYTES): creating a symlink or a file there is a few µs of kernel work plus a memory copy (~0.5 ms
 * for 2 MiB), less than a file-system thread's round trip (271 entries: ~3.5 ms against ~7 ms through the threads),
 * and never queued behind a claim's fsync on those threads. Files past MEMORY_SLICE_BYTES still go through them.
 */
const MEMORY_SLICE = 64;
const MEMORY_SLICE_BYTES = 8 * 1024 * 1024;

/**
 * Writes checked entries (from readSource) into `dir`, which must not exist yet: the directories first, then the
 * files and symlinks several at a time (a run's source is on the path to its first line). Safe in any order because
 * checked entries never lie beneath a file or symlink, and no file is written over (`wx`). `inMemory`: `dir` is on a
 * tmpfs (see MEMORY_SLICE).
 */
export async function writeSourceTree(
  dir: string,
  entries: readonly SourceEntry[],
  options: { inMemory?: boolean } = {},
): Promise<void> {
  await mkdir(dir, { recursive: false, mode: 0o755 });
  const parents = [...new Set(entries.map((e) => dirname(join(dir, e.path))))].filter((p) => p !== dir).sort();
  for (const parent of parents) await mkdir(parent, { recursive: true, mode: 0o755 });
  const fileOptions = (e: Extract<SourceEntry, { kind: "file" }>) =>
    ({ flag: "wx", mode: e.executable ? 0o755 : 0o644 }) as const;
  if (options.inMemory) {
    let count = 0;
    let bytes = 0;
    for (const e of entries) {
      const full = join(dir, e.path);
      if (e.kind === "symlink") symlinkSync(e.target, full);
      else if (e.bytes.length <= MEMORY_SLICE_BYTES) writeFileSync(full, e.bytes, fileOptions(e));
      else await writeFile(full, e.bytes, fileOptions(e));
      bytes += e.kind === "file" ? e.bytes.length : 0;
      if (++count < MEMORY_SLICE && bytes < MEMORY_SLICE_BYTES) continue;
      count = bytes = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return;
  }
  let next = 0;
  const writer = async () => {
    while (next < entries.length) {
      const e = entries[next++];
      const full = join(dir, e.path);
      if (e.kind === "symlink") await symlink(e.target, full);
      else await writeFile(full, e.bytes, fileOptions(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITES_AT_ONCE, entries.length) }, writer));
}

/**
 * What `weft run <dir>` packs: the commit `rev` when given; a git work tree's HEAD when `dir` is the top of
 * one with nothing uncommitted (so the commit is recorded); otherwise the directory as it is (`note` says why
 * no commit was recorded when it is a repository).
 */
export async function readSourceAt(
  dir: string,
  rev?: string,
): Promise<{ entries: SourceEntry[]; commit?: string; note?: string }> {
  if (rev !== undefined) return await readGitTree(dir, rev);
  const isRepo = await lstat(join(dir, ".git")).then(() => true, () => false);
  if (!isRepo) return { entries: await readDirectoryTree(dir) };
  const status = await run("git", ["-C", dir, "status", "--porcelain"]).then((r) => r.stdout, () => undefined);
  if (status === "") return await readGitTree(dir, "HEAD");
  return {
    entries: await readDirectoryTree(dir),
    note: status === undefined
      ? `${dir} has a .git that git cannot read; packed the directory, no commit recorded`
      : `${dir} has uncommitted changes; packed the directory as it is, no commit recorded (commit, or pass --rev)`,
  };
}
