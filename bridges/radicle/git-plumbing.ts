/**
 * The system git's plumbing on one bare repository, as the bridge uses it:
 * write and read objects by id, build trees, list and move refs (moves are
 * compare-and-swap). Every call is bounded (output size, run time) and a
 * failure is a RadicleGitFailed carrying git's own words.
 */
import { execFile } from "node:child_process";
import process from "node:process";
import { RadicleGitFailed, RadicleMalformed } from "./errors.ts";
import { checkOid } from "./radicle-ids.ts";

export type ObjectType = "blob" | "tree" | "commit";

export interface TreeEntry {
  mode: "100644" | "040000";
  type: "blob" | "tree";
  oid: string;
  name: string;
}

/** Larger than any object a COB holds; bigger answers are refused, not buffered. */
const MAX_OUTPUT = 64 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

export class GitRepo {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  run(args: string[], input?: Uint8Array | string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        "git",
        [`--git-dir=${this.dir}`, ...args],
        {
          encoding: "buffer",
          maxBuffer: MAX_OUTPUT,
          timeout: TIMEOUT_MS,
          env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
        },
        (err, stdout, stderr) => {
          if (err) reject(new RadicleGitFailed(args[0], (stderr.toString().trim() || err.message).slice(0, 500)));
          else resolve(stdout);
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  async text(args: string[], input?: Uint8Array | string): Promise<string> {
    return (await this.run(args, input)).toString("utf8");
  }

  static async init(dir: string): Promise<GitRepo> {
    await new Promise<void>((resolve, reject) =>
      execFile(
        "git",
        ["init", "--bare", "-q", dir],
        (err, _o, stderr) =>
          err ? reject(new RadicleGitFailed("init", String(stderr).trim() || err.message)) : resolve(),
      )
    );
    return new GitRepo(dir);
  }

  /** Write an object; git checks a commit's or tree's format before it stores it. */
  async write(type: ObjectType, bytes: Uint8Array | string): Promise<string> {
    return checkOid((await this.text(["hash-object", "-t", type, "-w", "--stdin"], bytes)).trim(), "written object");
  }

  async read(oid: string, type: ObjectType): Promise<Buffer> {
    return await this.run(["cat-file", type, checkOid(oid, "object id")]);
  }

  async mktree(entries: TreeEntry[]): Promise<string> {
    for (const e of entries) {
      if (!e.name || /[\t\n/\0]/.test(e.name)) {
        throw new RadicleMalformed("tree entry", `${JSON.stringify(e.name)} is not a file name`);
      }
    }
    const input = entries.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.name}\n`).join("");
    return checkOid((await this.text(["mktree"], input)).trim(), "written tree");
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const out = await this.text(["ls-tree", "-z", checkOid(oid, "tree id")]);
    return out.split("\0").filter(Boolean).map((line) => {
      const tab = line.indexOf("\t");
      const [mode, type, id] = line.slice(0, tab).split(" ");
      return { mode: mode as TreeEntry["mode"], type: type as TreeEntry["type"], oid: id, name: line.slice(tab + 1) };
    });
  }

  /** Refs under `prefix`, name → oid (symbolic refs resolved). */
  async refs(prefix: string): Promise<Map<string, string>> {
    const out = await this.text(["for-each-ref", "--format=%(objectname) %(refname)", prefix]);
    const refs = new Map<string, string>();
    for (const line of out.split("\n")) {
      if (!line) continue;
      const sp = line.indexOf(" ");
      refs.set(line.slice(sp + 1), line.slice(0, sp));
    }
    return refs;
  }

  async resolve(ref: string): Promise<string | undefined> {
    const out = await this.run(["rev-parse", "-q", "--verify", `${ref}^{commit}`]).catch(() => undefined);
    return out ? out.toString().trim() : undefined;
  }

  /** Move `ref` to `oid` only if it still points at `old` (absent: must not exist). */
  async updateRef(ref: string, oid: string, old: string | undefined): Promise<void> {
    await this.run(["update-ref", ref, oid, old ?? "0".repeat(40)]);
  }

  async symbolicRef(ref: string, target: string): Promise<void> {
    await this.run(["symbolic-ref", ref, target]);
  }
}
