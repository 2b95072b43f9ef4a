/**
 * The system git's plumbing on one bare repository, as the bridge uses it:
 * write and read objects by id, build trees, list and move refs (moves are
 * compare-and-swap). Every call is bounded (output size, run time) and a
 * failure is a RadicleGitFailed carrying git's own words.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
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

interface Batch {
  child: ChildProcess;
  /** Reads in the order they were asked: `cat-file --batch` answers in order. */
  waiting: { oid: string; done(type: string, bytes?: Buffer): void; fail(e: Error): void }[];
  buffer: Buffer;
}

/** Keep the process alive for the reader only while it has reads in flight: an idle one never holds it open. */
function hold(batch: Batch, busy: boolean): void {
  for (const handle of [batch.child, batch.child.stdout, batch.child.stderr, batch.child.stdin]) {
    const h = handle as unknown as { ref?(): void; unref?(): void } | null;
    if (busy) h?.ref?.();
    else h?.unref?.();
  }
}

export class GitRepo {
  readonly dir: string;
  #batch?: Batch;
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
          const command = args[0] === "-c" ? args[2] : args[0];
          if (err) reject(new RadicleGitFailed(command, (stderr.toString().trim() || err.message).slice(0, 500)));
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

  /** An object's content, through one long-lived `git cat-file --batch` (a process per object is 100× slower). */
  read(oid: string, type: ObjectType): Promise<Buffer> {
    checkOid(oid, "object id");
    return new Promise((resolve, reject) => {
      const batch = this.#batch ??= this.#startBatch();
      if (batch.waiting.length === 0) hold(batch, true);
      batch.waiting.push({
        oid,
        done: (got, bytes) =>
          got === type ? resolve(bytes!) : reject(
            new RadicleMalformed(
              `object ${oid}`,
              got === "missing" ? "is not in the repository" : `is a ${got}, not a ${type}`,
            ),
          ),
        fail: reject,
      });
      batch.child.stdin!.write(`${oid}\n`);
    });
  }

  #startBatch(): Batch {
    const child = spawn("git", [`--git-dir=${this.dir}`, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
    const batch: Batch = { child, waiting: [], buffer: Buffer.alloc(0) };
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-500)));
    child.stdout!.on("data", (chunk: Buffer) => {
      batch.buffer = Buffer.concat([batch.buffer, chunk]);
      while (batch.waiting.length) {
        const nl = batch.buffer.indexOf(10);
        if (nl < 0) return;
        const header = batch.buffer.subarray(0, nl).toString();
        const [, kind, size] = header.split(" ");
        if (kind === "missing" || size === undefined) {
          batch.buffer = batch.buffer.subarray(nl + 1);
          batch.waiting.shift()!.done("missing");
          continue;
        }
        const end = nl + 1 + Number(size);
        if (batch.buffer.length < end + 1) return;
        const bytes = Buffer.from(batch.buffer.subarray(nl + 1, end));
        batch.buffer = batch.buffer.subarray(end + 1);
        batch.waiting.shift()!.done(kind, bytes);
      }
      if (batch.waiting.length === 0) hold(batch, false);
    });
    const failAll = (why: string) => {
      if (this.#batch === batch) this.#batch = undefined;
      for (const w of batch.waiting.splice(0)) w.fail(new RadicleGitFailed("cat-file --batch", why));
    };
    child.on("error", (e) => failAll(e.message));
    child.on("exit", (code) => failAll(stderr.trim() || `exited with ${code}`));
    hold(batch, false);
    return batch;
  }

  /** End the object reader (it starts again on the next read). */
  close(): void {
    this.#batch?.child.stdin?.end();
    this.#batch = undefined;
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

  /** A tree's entries, parsed from its raw bytes (`<mode> <name>\\0<20-byte id>` each). */
  async readTree(oid: string): Promise<TreeEntry[]> {
    const raw = await this.read(oid, "tree");
    const entries: TreeEntry[] = [];
    let at = 0;
    while (at < raw.length) {
      const sp = raw.indexOf(32, at), nul = raw.indexOf(0, sp);
      if (sp < 0 || nul < 0 || nul + 21 > raw.length) throw new RadicleMalformed(`tree ${oid}`, "is truncated");
      const mode = raw.subarray(at, sp).toString();
      entries.push({
        mode: mode === "40000" ? "040000" : mode as TreeEntry["mode"],
        type: mode === "40000" ? "tree" : "blob",
        name: raw.subarray(sp + 1, nul).toString(),
        oid: raw.subarray(nul + 1, nul + 21).toString("hex"),
      });
      at = nul + 21;
    }
    return entries;
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

  /** Does the repository hold this object? */
  async has(oid: string): Promise<boolean> {
    return await this.run(["cat-file", "-e", checkOid(oid, "object id")]).then(() => true, () => false);
  }

  /**
   * Bring commits (and all they reach) from another repository on this
   * machine, by id, as git's own fetch does: what is held already is not
   * sent again, every object is checked on the way in (fsck), and no ref moves.
   */
  async fetchCommits(from: string, commits: string[]): Promise<void> {
    const missing: string[] = [];
    for (const oid of new Set(commits)) if (!(await this.has(oid))) missing.push(oid);
    if (missing.length === 0) return;
    await this.run([
      "-c",
      "fetch.fsckObjects=true",
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-write-fetch-head",
      "--end-of-options",
      from,
      ...missing,
    ]);
  }

  async symbolicRef(ref: string, target: string): Promise<void> {
    await this.run(["symbolic-ref", ref, target]);
  }
}
