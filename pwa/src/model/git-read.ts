/**
 * Reading the browser's copy of a repository (node/repo-mirror.ts) with
 * isomorphic-git: a directory at a commit, a file at a commit, the files
 * two commits differ in, and each file's line diff (jsdiff's hunks, with
 * old and new line numbers so comments anchor to lines), shaped for a
 * unified or a side-by-side view. Everything here is local: it works
 * offline once the commits were fetched.
 */
import "../node/buffer-global.ts";
import git, { TREE } from "isomorphic-git";
import { structuredPatch } from "diff";
import type { GitFs } from "../node/repo-mirror.ts";
import type { DiffLine, FileChange, FileDiff } from "./diff-lines.ts";

/** Files larger than this are not diffed or shown inline (a browser tab would stall on them). */
export const MAX_TEXT_BYTES = 1024 * 1024;

export interface TreeEntry {
  name: string;
  path: string;
  type: "tree" | "blob" | "commit";
  oid: string;
}

export interface FileAt {
  size: number;
  /** Undefined when the file is binary or too large to show. */
  text?: string;
}

export interface Repo {
  fs: GitFs;
  gitdir: string;
}

/** The entries of the directory `path` ("" for the root) at `commit`, directories first. */
export async function listTree(repo: Repo, commit: string, path: string): Promise<TreeEntry[]> {
  const { tree } = await git.readTree({ ...repo, oid: commit, ...(path ? { filepath: path } : {}) });
  return tree
    .map((e) => ({ name: e.path, path: path ? `${path}/${e.path}` : e.path, type: e.type, oid: e.oid }))
    .sort((a, b) => (a.type === "tree" ? 0 : 1) - (b.type === "tree" ? 0 : 1) || a.name.localeCompare(b.name));
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Text if the bytes are UTF-8 without NUL and small enough to show; undefined otherwise. */
function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.length > MAX_TEXT_BYTES || bytes.subarray(0, 8000).includes(0)) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

async function blob(repo: Repo, oid: string): Promise<Uint8Array> {
  return (await git.readBlob({ ...repo, oid })).blob;
}

/** The file `path` at `commit`. */
export async function readFileAt(repo: Repo, commit: string, path: string): Promise<FileAt> {
  const { blob: bytes } = await git.readBlob({ ...repo, oid: commit, filepath: path });
  const text = textOf(bytes);
  return { size: bytes.length, ...(text !== undefined ? { text } : {}) };
}

/** The files that differ between the trees of two commits, by path. */
export async function changedFiles(repo: Repo, from: string, to: string): Promise<FileChange[]> {
  const changes: FileChange[] = await git.walk({
    ...repo,
    trees: [TREE({ ref: from }), TREE({ ref: to })],
    map: async (path, [a, b]) => {
      const [ta, tb] = await Promise.all([a?.type(), b?.type()]);
      const [oa, ob] = await Promise.all([a?.oid(), b?.oid()]);
      if (path === ".") return undefined;
      // An unchanged directory: nothing below it differs, so it is not walked.
      if (oa === ob) return null;
      if (ta === "blob" && tb === "blob") return { path, status: "modified", before: oa, after: ob };
      // A file on one side only (the other side may be a directory, whose files are walked as their own changes).
      if (ta === "blob") return { path, status: "deleted", before: oa };
      if (tb === "blob") return { path, status: "added", after: ob };
      return undefined; // directories on both sides: walk into them
    },
  });
  return changes.sort((x, y) => x.path.localeCompare(y.path));
}

/** One file's line diff, with line numbers on both sides; binary or oversized files get a note instead. */
export async function diffFile(repo: Repo, change: FileChange, context = 3): Promise<FileDiff> {
  const [before, after] = await Promise.all([
    change.before ? blob(repo, change.before) : new Uint8Array(),
    change.after ? blob(repo, change.after) : new Uint8Array(),
  ]);
  const [a, b] = [textOf(before), textOf(after)];
  if (a === undefined || b === undefined) {
    const big = before.length > MAX_TEXT_BYTES || after.length > MAX_TEXT_BYTES;
    return { ...change, hunks: [], note: big ? "too large to show here" : "binary file" };
  }
  const patch = structuredPatch(change.path, change.path, a, b, "", "", { context });
  return {
    ...change,
    hunks: patch.hunks.map((h) => {
      let o = h.oldStart;
      let n = h.newStart;
      const lines: DiffLine[] = [];
      for (const l of h.lines) {
        if (l.startsWith("\\")) continue; // "\ No newline at end of file"
        const text = l.slice(1);
        if (l[0] === "+") lines.push({ kind: "add", new: n++, text });
        else if (l[0] === "-") lines.push({ kind: "del", old: o++, text });
        else lines.push({ kind: "context", old: o++, new: n++, text });
      }
      return { header: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, lines };
    }),
  };
}

/** The commit a ref names here, or the commit id itself. */
export async function resolveCommit(repo: Repo, ref: string): Promise<string> {
  return /^[0-9a-f]{40}$/.test(ref) ? ref : await git.resolveRef({ ...repo, ref });
}
