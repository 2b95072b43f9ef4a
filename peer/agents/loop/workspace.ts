/**
 * The agent's working tree: a checkout of the task's base commit in a
 * fresh temp directory, cloned from the peer's bare repository (its objects
 * shared, nothing fetched). The model's tools read, search and edit files
 * here as data — every path confined to the tree, no symlink followed out
 * of it, every read and write bounded — and nothing in it is ever executed
 * on the host: the tests run on a snapshot of it in a container (test-runs.ts).
 * A snapshot is one commit on the base, authored as the agent (its name and
 * DID), so the patch that comes out is the tree as tested.
 */
import { lstat, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";
import { WeftError } from "#protocol";
import { RUN_PATH } from "#protocol/runner";
import { GitTransferError } from "#protocol/sync";
import { startGit } from "../../repo/git-child.ts";
import { git } from "../../repo/git-run.ts";

/** The most bytes a tool reads from or writes to one file. */
export const MAX_FILE_BYTES = 256 * 1024;
/** The most matching lines one search returns. */
const MAX_MATCHES = 200;

export interface AgentIdentity {
  name: string;
  did: string;
}

const refused = (why: string) => new WeftError("AgentTool", "input/invalid", why);

export class Workspace {
  readonly dir: string;
  readonly base: string;
  readonly #author: AgentIdentity;

  private constructor(dir: string, base: string, author: AgentIdentity) {
    this.dir = dir;
    this.base = base;
    this.#author = author;
  }

  /** Check out `base` of the bare repository at `bare` into a new temp directory. */
  static async open(bare: string, base: string, author: AgentIdentity): Promise<Workspace> {
    const dir = await mkdtemp(join(tmpdir(), "weft-agent-"));
    try {
      await git(["clone", "--quiet", "--shared", "--no-checkout", bare, dir]);
      await git(["-C", dir, "checkout", "--quiet", "--detach", base]);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return new Workspace(dir, base, author);
  }

  /** The absolute path of `path`, refused unless it is a plain relative path inside the tree, outside .git. */
  async #resolve(path: string): Promise<string> {
    if (typeof path !== "string" || !RUN_PATH.test(path) || path === ".git" || path.startsWith(".git/")) {
      throw refused(`${JSON.stringify(path)} is not a relative path inside the repository (no .., no .git)`);
    }
    const full = join(this.dir, path);
    // Every existing ancestor must be a real directory inside the tree: no symlink leads out.
    const parent = await realpath(dirname(full)).catch(() => undefined);
    if (parent !== undefined && parent !== this.dir && !parent.startsWith(this.dir + sep)) {
      throw refused(`${path} leads outside the repository`);
    }
    const st = await lstat(full).catch(() => undefined);
    if (st?.isSymbolicLink()) throw refused(`${path} is a symbolic link; edit what it points to instead`);
    return full;
  }

  async read(path: string): Promise<string> {
    const full = await this.#resolve(path);
    const st = await lstat(full).catch(() => undefined);
    if (!st?.isFile()) throw refused(`${path} is not a file in the repository`);
    if (st.size > MAX_FILE_BYTES) {
      throw refused(`${path} is ${st.size} bytes, more than ${MAX_FILE_BYTES} a tool reads`);
    }
    return await readFile(full, "utf8");
  }

  async write(path: string, content: string): Promise<void> {
    if (typeof content !== "string") throw refused("content must be text");
    if (Buffer.byteLength(content) > MAX_FILE_BYTES) throw refused(`content is more than ${MAX_FILE_BYTES} bytes`);
    const full = await this.#resolve(path);
    await mkdir(dirname(full), { recursive: true });
    await this.#resolve(path); // again, now that its directories exist
    await writeFile(full, content);
  }

  /** Replace the one occurrence of `old` in `path` by `replacement`; refused if it occurs zero or several times. */
  async replace(path: string, old: string, replacement: string): Promise<void> {
    if (typeof old !== "string" || old === "" || typeof replacement !== "string") {
      throw refused("old must be non-empty text and new must be text");
    }
    const text = await this.read(path);
    const at = text.indexOf(old);
    if (at < 0) throw refused(`${path} does not contain the text to replace; read it again`);
    if (text.indexOf(old, at + 1) >= 0) throw refused(`${path} contains that text more than once; give more context`);
    await this.write(path, text.slice(0, at) + replacement + text.slice(at + old.length));
  }

  /** Lines of tracked and new files containing `query` (fixed text), as `path:line:text`. */
  async search(query: string): Promise<string[]> {
    if (typeof query !== "string" || query.length === 0 || query.length > 200) {
      throw refused("a search is 1 to 200 characters of text");
    }
    const { stdout } = await git(
      ["-C", this.dir, "grep", "--untracked", "-I", "-n", "-F", "--no-color", "-e", query],
      { ok: [1] },
    );
    return stdout.split("\n").filter((l) => l !== "").slice(0, MAX_MATCHES).map((l) => l.slice(0, 400));
  }

  /** Every file of the tree as it is now (tracked and new), for the context pack. */
  async files(): Promise<string[]> {
    const { stdout } = await git(["-C", this.dir, "ls-files", "--cached", "--others", "--exclude-standard"]);
    return [...new Set(stdout.split("\n").filter((l) => l !== ""))].sort();
  }

  /** The tree as it is now, as one commit on the base authored by the agent; its id. */
  async snapshot(message: string): Promise<string> {
    await git(["-C", this.dir, "add", "--all"]);
    const tree = (await git(["-C", this.dir, "write-tree"])).stdout.trim();
    const who = {
      GIT_AUTHOR_NAME: this.#author.name,
      GIT_AUTHOR_EMAIL: `${this.#author.did}@agent.weft`,
      GIT_COMMITTER_NAME: this.#author.name,
      GIT_COMMITTER_EMAIL: `${this.#author.did}@agent.weft`,
    };
    const body = `${message}\n\nAgent: ${this.#author.name} (${this.#author.did})\n`;
    return (await git(["-C", this.dir, "commit-tree", tree, "-p", this.base, "-F", "-"], { env: who, input: body }))
      .stdout.trim();
  }

  /** Has the tree changed from the base? */
  async changed(): Promise<boolean> {
    await git(["-C", this.dir, "add", "--all"]);
    const { code } = await git(["-C", this.dir, "diff", "--cached", "--quiet", this.base], { ok: [1] });
    return code === 1;
  }

  /** The unified diff of the tree against the base (bounded), for the transcript. */
  async diff(): Promise<string> {
    await git(["-C", this.dir, "add", "--all"]);
    return (await git(["-C", this.dir, "diff", "--cached", this.base])).stdout.slice(0, 64 * 1024);
  }

  /** A pack of what `commit` adds to the base: what a push sends. */
  async pack(commit: string): Promise<Uint8Array> {
    const { stdout } = await packBytes(this.dir, `${commit}\n^${this.base}\n`);
    return stdout;
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `git pack-objects --revs` as bytes (git-run's `git` decodes text). */
async function packBytes(dir: string, revs: string): Promise<{ stdout: Uint8Array }> {
  const child = await startGit(["-C", dir, "pack-objects", "--stdout", "--revs", "--quiet"]);
  const chunks: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => chunks.push(b));
  child.stdin.end(revs);
  const code = await child.exited;
  if (code !== 0) throw new GitTransferError("git/failed", `git pack-objects failed: ${child.stderr()}`);
  return { stdout: new Uint8Array(Buffer.concat(chunks)) };
}
