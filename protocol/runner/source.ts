/**
 * A run's source tree, packed so that the same tree always gives the same
 * bytes and so the same CID: a ustar archive (any `tar -t` reads it) of
 * regular files, their executable bit and symlinks that stay inside the
 * tree, sorted by path bytes, with no timestamps, owners or directories.
 *
 * `readSource` is the boundary every node crosses before writing a single
 * file: it checks every header, bound and path, and accepts only the
 * canonical form `packSource` writes (so one tree has exactly one packing).
 * Writing the entries to disk is the shell's job (it has the files).
 */
import { compareBytes, compareUtf8, concatBytes, fromUtf8, utf8, utf8Length } from "../bytes.ts";
import { WeftError } from "../errors.ts";

export type SourceEntry =
  | { path: string; kind: "file"; executable: boolean; bytes: Uint8Array }
  | { path: string; kind: "symlink"; target: string };

export interface SourceLimits {
  /** Entries (files and symlinks) at most. */
  maxEntries: number;
  /** Bytes of all files together at most. */
  maxBytes: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = { maxEntries: 20_000, maxBytes: 512 * 1024 * 1024 };

const BLOCK = 512;
/** ustar splits a path into a 155-byte prefix and a 100-byte name. */
const MAX_PATH_BYTES = 255;
const MAX_TARGET_BYTES = 100;
/** Whether a path or link target holds only printable characters and no backslash (a separator elsewhere). */
function printable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return false;
  }
  return s.length > 0;
}

function bad(message: string): WeftError {
  return new WeftError("InvalidSource", "runner/source-invalid", message);
}

/** Throws unless `path` is a relative path inside the tree: no empty, `.` or `..` part, within ustar's bounds. */
export function checkSourcePath(path: string): void {
  if (!printable(path)) throw bad(`source path ${JSON.stringify(path)} has a control character or backslash`);
  if (path.startsWith("/")) {
    throw bad(`source path ${JSON.stringify(path)} is absolute; paths are relative to the tree`);
  }
  if (path.split("/").some((p) => p === "" || p === "." || p === "..")) {
    throw bad(`source path ${JSON.stringify(path)} has an empty, "." or ".." part`);
  }
  if (utf8Length(path) > MAX_PATH_BYTES) {
    throw bad(`source path ${path.slice(0, 64)}… is over ${MAX_PATH_BYTES} bytes`);
  }
}

/** Throws unless a symlink at `path` pointing at `target` resolves inside the tree. */
function checkTarget(path: string, target: string): void {
  if (target === "" || !printable(target) || utf8Length(target) > MAX_TARGET_BYTES) {
    throw bad(`symlink ${path}: its target must be 1–${MAX_TARGET_BYTES} printable bytes`);
  }
  if (target.startsWith("/")) throw bad(`symlink ${path} points at the absolute path ${target}; only relative links`);
  const parts = path.split("/").slice(0, -1);
  for (const p of target.split("/")) {
    if (p === "" || p === ".") continue;
    if (p !== "..") parts.push(p);
    else if (parts.pop() === undefined) throw bad(`symlink ${path} -> ${target} points outside the source tree`);
  }
}

/** Checks a whole set of entries: paths, targets, bounds, no duplicates, nothing beneath a symlink or a file. */
function checkEntries(entries: readonly SourceEntry[], limits: SourceLimits): void {
  if (entries.length > limits.maxEntries) {
    throw bad(`the source has ${entries.length} entries; at most ${limits.maxEntries} are allowed`);
  }
  let total = 0;
  const leaves = new Set<string>();
  for (const e of entries) {
    checkSourcePath(e.path);
    if (e.kind === "symlink") checkTarget(e.path, e.target);
    else total += e.bytes.length;
    if (leaves.has(e.path)) throw bad(`source path ${e.path} appears twice`);
    leaves.add(e.path);
  }
  if (total > limits.maxBytes) throw bad(`the source holds ${total} bytes; at most ${limits.maxBytes} are allowed`);
  for (const e of entries) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (leaves.has(dir)) throw bad(`source path ${e.path} lies beneath ${dir}, which is a file or symlink`);
    }
  }
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/**
 * Writes `text` into a header at `offset`. Header fields are nearly all ASCII (numbers, the magic, most paths), written
 * byte by byte; others are encoded. Every header of a source is built again when it is read (readSource checks each
 * is canonical), so this is on the path of every unpack.
 */
function put(block: Uint8Array, offset: number, text: string | Uint8Array): void {
  if (typeof text !== "string") return block.set(text, offset);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return block.set(utf8(text), offset);
    block[offset + i] = c;
  }
}

/** Splits a path for ustar: the name field (≤100 bytes) and a prefix (≤155 bytes) cut at a slash. */
function splitPath(path: string): { prefix: string; name: string } {
  if (utf8Length(path) <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (utf8Length(prefix) <= 155 && utf8Length(name) <= 100) return { prefix, name };
  }
  throw bad(`source path ${path.slice(0, 64)}… cannot be stored in ustar (no part under 100 bytes after a slash)`);
}

/** The canonical header of `e`; `size` is its file's length (given apart, so a header can be checked before its bytes). */
function header(e: SourceEntry, size = e.kind === "file" ? e.bytes.length : 0): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(e.path);
  put(h, 0, name);
  put(h, 100, octal(e.kind === "symlink" ? 0o777 : e.executable ? 0o755 : 0o644, 8));
  put(h, 108, octal(0, 8));
  put(h, 116, octal(0, 8));
  put(h, 124, octal(size, 12));
  put(h, 136, octal(0, 12));
  put(h, 148, "        ");
  put(h, 156, e.kind === "file" ? "0" : "2");
  if (e.kind === "symlink") put(h, 157, e.target);
  put(h, 257, "ustar\x0000");
  put(h, 329, octal(0, 8));
  put(h, 337, octal(0, 8));
  put(h, 345, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  put(h, 148, octal(sum, 7) + " ");
  return h;
}

function byPath(a: SourceEntry, b: SourceEntry): number {
  return compareUtf8(a.path, b.path);
}

/** Packs entries (in any order) into the canonical archive; throws WeftError on any path or bound it refuses. */
export function packSource(entries: readonly SourceEntry[], limits = DEFAULT_SOURCE_LIMITS): Uint8Array {
  checkEntries(entries, limits);
  const parts: Uint8Array[] = [];
  for (const e of [...entries].sort(byPath)) {
    parts.push(header(e));
    if (e.kind === "file" && e.bytes.length > 0) {
      parts.push(e.bytes);
      const pad = (BLOCK - (e.bytes.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return concatBytes(...parts);
}

function field(h: Uint8Array, offset: number, length: number): string {
  const raw = h.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return fromUtf8(end === -1 ? raw : raw.subarray(0, end));
}

/**
 * The entry a header block describes (a file's bytes left empty) and its size, once the block is exactly the
 * canonical header packSource writes for it; throws WeftError otherwise. `index` names the entry in errors.
 */
function headerEntry(h: Uint8Array, index: number): { entry: SourceEntry; size: number } {
  const type = String.fromCharCode(h[156]);
  if (type !== "0" && type !== "2") throw bad(`entry ${index} is neither a regular file nor a symlink`);
  const size = Number.parseInt(field(h, 124, 12), 8);
  if (!Number.isSafeInteger(size) || size < 0 || (type === "2" && size !== 0)) {
    throw bad(`entry ${index} has an invalid size`);
  }
  const prefix = field(h, 345, 155);
  const path = prefix === "" ? field(h, 0, 100) : `${prefix}/${field(h, 0, 100)}`;
  const executable = field(h, 100, 8) === octal(0o755, 8).slice(0, 7);
  const entry: SourceEntry = type === "2"
    ? { path, kind: "symlink", target: field(h, 157, 100) }
    : { path, kind: "file", executable, bytes: new Uint8Array(0) };
  checkSourcePath(path);
  if (compareBytes(header(entry, size), h) !== 0) {
    throw bad(`entry ${path} is not in the canonical packing (mode, owner, time)`);
  }
  return { entry, size };
}

/**
 * Whether `head`, the first bytes of a blob, begins as a packed source does: a first block that is exactly the
 * canonical header of a file or symlink. One block's check, so a node can tell a source it stored (and unpack it
 * ahead of the runs that will read it) from other artifacts (an image's tar has times and owners) without reading
 * the rest; only readSource says whether the whole blob is one.
 */
export function looksLikePackedSource(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  try {
    headerEntry(head.subarray(0, BLOCK), 0);
    return true;
  } catch {
    return false;
  }
}

/** The canonical archive's entries, after checking every header, bound and path; throws WeftError otherwise. */
export function readSource(archive: Uint8Array, limits = DEFAULT_SOURCE_LIMITS): SourceEntry[] {
  if (archive.length % BLOCK !== 0 || archive.length < 2 * BLOCK) {
    throw bad(`a packed source is a whole number of ${BLOCK}-byte blocks ending in two empty ones`);
  }
  const entries: SourceEntry[] = [];
  let total = 0;
  let at = 0;
  for (;;) {
    if (at + BLOCK > archive.length) throw bad("the packed source ends without its two empty closing blocks");
    const h = archive.subarray(at, at + BLOCK);
    // A header's name is never empty, so a block that starts with a NUL is the closing one or not canonical.
    if (h[0] === 0 && h.every((b) => b === 0)) break;
    if (entries.length >= limits.maxEntries) throw bad(`the source has more than ${limits.maxEntries} entries`);
    const { entry, size } = headerEntry(h, entries.length);
    total += size;
    if (total > limits.maxBytes) throw bad(`the source holds more than ${limits.maxBytes} bytes`);
    const end = at + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (end > archive.length) throw bad(`entry ${entry.path} runs past the end of the packed source`);
    if (entry.kind === "file") entry.bytes = archive.slice(at + BLOCK, at + BLOCK + size);
    if (entries.length > 0 && byPath(entries[entries.length - 1], entry) >= 0) {
      throw bad(`entry ${entry.path} is out of order or repeated; a packed source is sorted by path`);
    }
    entries.push(entry);
    at = end;
  }
  if (at + 2 * BLOCK !== archive.length || !archive.subarray(at).every((b) => b === 0)) {
    throw bad("the packed source has bytes after its closing blocks");
  }
  checkEntries(entries, limits);
  return entries;
}
