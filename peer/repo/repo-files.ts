/**
 * Reading a repository's files at a commit from the peer's bare copy, for
 * clients that hold no clone (an MCP client, a script): a directory's
 * entries, a page of a file's lines, and a search for a fixed string. Every
 * answer is bounded (entries, lines, bytes, matches, time) before it is
 * read, paths are taken literally (never as git pathspec magic), and git
 * reads only what the page needs — it is stopped as soon as the page is full.
 */
import { createInterface } from "node:readline";
import { InvalidInput } from "#protocol/schema";
import { GitTransferError } from "#protocol/sync";
import { OBJECT_ID } from "#protocol/repo";
import { type GitChild, startGit } from "./git-child.ts";
import { git } from "./git-run.ts";

/** The most bytes of file text one page holds. */
export const MAX_PAGE_BYTES = 128 * 1024;
/** The most characters of one line an answer holds (minified files have very long lines). */
export const MAX_LINE_CHARS = 2000;
/** How long one read or search may keep git busy. */
const GIT_TIMEOUT_MS = 20_000;
/** A file whose first bytes hold a NUL is binary: its content is not given as text. */
const BINARY_SNIFF = 8000;
/** A path inside the repository: relative, no empty, `.` or `..` segment, bounded. */
const PATH = /^(?!\/)(?!.*\/\/)(?!.*\/$)[^\0]{1,1024}$/;

export interface TreeEntry {
  name: string;
  path: string;
  type: "file" | "dir" | "link" | "submodule";
  /** Bytes, for files and links. */
  size?: number;
}

export interface FilePage {
  path: string;
  commit: string;
  size: number;
  binary: boolean;
  /** The first line given, counting from 1. */
  from: number;
  lines: string[];
  /** The line to ask for next, when the file goes on. */
  next?: number;
}

export interface SearchMatch {
  path: string;
  line: number;
  text: string;
}

/** A path in the repository, checked; "" is its root. */
export function repoPath(path: string, field = "path"): string {
  if (path === "" || path === ".") return "";
  if (!PATH.test(path) || path.split("/").some((s) => s === "." || s === "..")) {
    throw new InvalidInput(field, "must be a path inside the repository (a/b.ts: relative, no . or .. segment)");
  }
  return path;
}

const gitIn = (repo: string, ...args: string[]) => ["--literal-pathspecs", "-C", repo, ...args];

/** Kill git if it runs past the timeout; resolves with its exit code. */
function bounded(child: GitChild): Promise<number | null> {
  const timer = setTimeout(() => child.kill(), GIT_TIMEOUT_MS);
  return child.exited.finally(() => clearTimeout(timer));
}

/** The object at `path` in `commit`, if there is one: its mode, type, id and size. */
async function entryAt(repo: string, commit: string, path: string) {
  const { stdout } = await git(gitIn(repo, "ls-tree", "-l", "-z", commit, "--", path));
  const line = stdout.split("\0").find((l) => l.endsWith(`\t${path}`));
  if (!line) return undefined;
  const [meta] = line.split("\t");
  const [mode, type, oid, size] = meta.split(/\s+/);
  return { mode, type, oid, size: size === "-" ? 0 : Number(size) };
}

const typeOf = (mode: string, type: string): TreeEntry["type"] =>
  type === "tree" ? "dir" : type === "commit" ? "submodule" : mode === "120000" ? "link" : "file";

/** A commit this copy holds: the id itself; else not-found, saying what to do. */
export async function holdsCommit(repo: string, commit: string): Promise<boolean> {
  if (!OBJECT_ID.test(commit)) return false;
  const { code, stdout } = await git(gitIn(repo, "cat-file", "-t", commit), { ok: [128, 1] });
  return code === 0 && stdout.trim() === "commit";
}

/** The entries of the directory `dir` at `commit`, sorted as git sorts them. */
export async function listDir(repo: string, commit: string, dir: string): Promise<TreeEntry[]> {
  const at = repoPath(dir);
  if (at) {
    const entry = await entryAt(repo, commit, at);
    if (!entry) throw new GitTransferError("git/not-found", `no ${at} at ${commit.slice(0, 12)}`);
    if (entry.type !== "tree") throw new InvalidInput("path", `${at} is a file: read it with the file route`);
  }
  const { stdout } = await git(gitIn(repo, "ls-tree", "-l", "-z", at ? `${commit}:${at}` : commit));
  return stdout.split("\0").filter(Boolean).map((line) => {
    const tab = line.indexOf("\t");
    const [mode, type, , size] = line.slice(0, tab).split(/\s+/);
    const name = line.slice(tab + 1);
    const kind = typeOf(mode, type);
    return {
      name,
      path: at ? `${at}/${name}` : name,
      type: kind,
      ...(kind === "file" || kind === "link" ? { size: Number(size) } : {}),
    };
  });
}

/** Lines `from` … of the file at `path` in `commit`: at most `limit` lines and MAX_PAGE_BYTES of text. */
export async function readLines(
  repo: string,
  commit: string,
  path: string,
  from: number,
  limit: number,
): Promise<FilePage> {
  const at = repoPath(path);
  if (!at) throw new InvalidInput("path", "names the repository's root: list it with the files route");
  const entry = await entryAt(repo, commit, at);
  if (!entry) throw new GitTransferError("git/not-found", `no file ${at} at ${commit.slice(0, 12)}`);
  if (entry.type !== "blob") throw new InvalidInput("path", `${at} is a directory: list it with the files route`);
  const page: FilePage = { path: at, commit, size: entry.size, binary: false, from, lines: [] };
  const child = await startGit(gitIn(repo, "cat-file", "blob", entry.oid));
  const exited = bounded(child);
  const out = child.stdout;
  let sniffed = 0;
  out.on("data", (b: Buffer) => {
    if (sniffed >= BINARY_SNIFF) return;
    if (b.subarray(0, BINARY_SNIFF - sniffed).includes(0)) {
      page.binary = true;
      child.kill();
    }
    sniffed += b.length;
  });
  let n = 0, bytes = 0;
  for await (const line of createInterface({ input: out, crlfDelay: Infinity })) {
    if (page.binary) break;
    if (++n < from) continue;
    if (page.lines.length === limit || bytes + line.length > MAX_PAGE_BYTES) {
      page.next = n;
      break;
    }
    bytes += line.length + 1;
    page.lines.push(line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) + "…" : line);
  }
  child.kill();
  await exited;
  if (page.binary) page.lines = [];
  return page;
}

/**
 * Lines holding `text` (a fixed string, not a pattern) in the text files at
 * `commit`, under `under` if given: the matches after the first `skip`, at
 * most `limit`; `more` says whether others follow.
 */
export async function searchText(
  repo: string,
  commit: string,
  options: { text: string; under?: string; ignoreCase?: boolean; skip: number; limit: number },
): Promise<{ matches: SearchMatch[]; more: boolean }> {
  const under = repoPath(options.under ?? "", "under");
  const child = await startGit(gitIn(
    repo,
    "grep",
    "-I",
    "-n",
    "-z",
    "--no-color",
    "--fixed-strings",
    ...(options.ignoreCase ? ["-i"] : []),
    "-e",
    options.text,
    commit,
    "--",
    ...(under ? [under] : []),
  ));
  const exited = bounded(child);
  const matches: SearchMatch[] = [];
  const prefix = `${commit}:`;
  let seen = 0, more = false;
  for await (const raw of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    // `<commit>:<path>\0<line>\0<text>`
    const [where, line, ...rest] = raw.split("\0");
    if (!where?.startsWith(prefix) || !line) continue;
    if (seen++ < options.skip) continue;
    if (matches.length === options.limit) {
      more = true;
      break;
    }
    const text = rest.join("\0");
    matches.push({
      path: where.slice(prefix.length),
      line: Number(line),
      text: text.length > MAX_LINE_CHARS ? text.slice(0, MAX_LINE_CHARS) + "…" : text,
    });
  }
  if (more) child.kill();
  const code = await exited;
  // 1: no match; killed (null) after a full page, or by the timeout.
  if (code !== 0 && code !== 1 && !more) {
    throw code === null
      ? new GitTransferError("git/stalled", `the search ran past ${GIT_TIMEOUT_MS / 1000} s: search under a path`)
      : new GitTransferError("git/failed", `git grep failed: ${child.stderr()}`);
  }
  return { matches, more };
}
