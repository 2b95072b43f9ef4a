/**
 * The bare git repositories a peer keeps for its spaces' repositories, under
 * `<home>/repos/<space>/<name>.git`, with system git as the engine. Refs
 * here only ever follow the space's reduced, verified state (ref-follower.ts);
 * objects may arrive before that (fetched from a member, or pushed through
 * the API) and are harmless until a valid push references them.
 *
 * A push's objects wait in a quarantine — a pack indexed into its own object
 * directory, with the repository's objects as an alternate, as git's own
 * receive-pack does — until the push operation is valid; then the pack moves
 * into the repository, or is dropped if the push was refused.
 */
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { REPO_NAME } from "#protocol/repo";
import { GitTransferError } from "#protocol/sync";
import { git } from "./git-run.ts";
import { missingObjects } from "./git-objects.ts";

const QUARANTINE = "weft-quarantine";
const QUARANTINE_ID = /^[0-9a-f]{32}$/;

/** A space's DID as a directory name: did:key:z… has only [A-Za-z0-9:], and ':' is replaced. */
const spaceDir = (space: string) => space.replace(/[^A-Za-z0-9]/g, "_");

export class BareRepos {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  path(space: string, name: string): string {
    if (!REPO_NAME.test(name) || name.includes("..")) {
      throw new GitTransferError("input/invalid", `bad repository name ${name}`);
    }
    return join(this.dir, spaceDir(space), `${name}.git`);
  }

  /** The repository's path if this peer holds it. */
  async existing(space: string, name: string): Promise<string | undefined> {
    const path = this.path(space, name);
    return (await stat(join(path, "HEAD")).then(() => true, () => false)) ? path : undefined;
  }

  /** Create the bare repository if it is not there; point HEAD at the default branch. */
  async ensure(space: string, name: string, defaultBranch: string): Promise<string> {
    const path = this.path(space, name);
    if (!(await this.existing(space, name))) {
      await mkdir(path, { recursive: true });
      await git(["init", "--bare", "--quiet", path]);
    }
    await git(["-C", path, "symbolic-ref", "HEAD", `refs/heads/${defaultBranch}`]);
    return path;
  }

  /** Its branches and tags: ref → commit. */
  async refs(path: string): Promise<Map<string, string>> {
    const { stdout } = await git([
      "-C",
      path,
      "for-each-ref",
      "--format=%(objectname) %(refname)",
      "refs/heads",
      "refs/tags",
    ]);
    const out = new Map<string, string>();
    for (const line of stdout.split("\n")) {
      const i = line.indexOf(" ");
      if (i > 0) out.set(line.slice(i + 1), line.slice(0, i));
    }
    return out;
  }

  /** Does the repository hold `commit` and everything it reaches (what a ref needs before it may point there)? */
  async complete(path: string, commit: string): Promise<boolean> {
    if ((await missingObjects(path, [commit])).length > 0) return false;
    const { code } = await git(["-C", path, "rev-list", "--objects", "--quiet", commit, "--not", "--all"], {
      ok: [128, 1],
    });
    return code === 0;
  }

  /** Move (or with no commit, delete) a ref, only from where this peer has it (`old`, or absent). */
  async setRef(path: string, ref: string, commit: string | undefined, old: string | undefined): Promise<void> {
    if (commit === undefined) await git(["-C", path, "update-ref", "-d", ref, ...(old ? [old] : [])]);
    else await git(["-C", path, "update-ref", ref, commit, old ?? "0".repeat(commit.length)]);
  }

  /** Index a pack into a fresh quarantine of the repository; resolves with its id. */
  async quarantine(path: string, pack: AsyncIterable<Uint8Array>): Promise<string> {
    const id = randomBytes(16).toString("hex");
    const objects = join(path, QUARANTINE, id);
    await mkdir(join(objects, "pack"), { recursive: true });
    try {
      await git(["-C", path, "index-pack", "--stdin", "--strict"], {
        input: pack,
        env: { GIT_OBJECT_DIRECTORY: objects, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(path, "objects") },
      });
    } catch (e) {
      await rm(objects, { recursive: true, force: true });
      throw e;
    }
    return id;
  }

  /** git's environment to read the repository with a quarantine's objects too (before its operation applied). */
  async quarantineEnv(path: string, id: string): Promise<Record<string, string>> {
    const dir = this.#quarantineDir(path, id);
    if (!(await stat(dir).then(() => true, () => false))) {
      throw new GitTransferError(
        "git/not-found",
        `no upload ${id} here (it was used or expired): upload the objects again`,
      );
    }
    return { GIT_OBJECT_DIRECTORY: dir, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(path, "objects") };
  }

  /** Move a quarantined pack into the repository: the push that names its objects is valid. */
  async admit(path: string, id: string): Promise<void> {
    const dir = this.#quarantineDir(path, id);
    const packs = join(dir, "pack");
    const files = await readdir(packs).catch(() => [] as string[]);
    // The pack before its index: git finds a pack through its index.
    for (const suffix of [".pack", ".rev", ".idx"]) {
      for (const f of files.filter((f) => f.endsWith(suffix))) {
        await rename(join(packs, f), join(path, "objects", "pack", f));
      }
    }
    await rm(dir, { recursive: true, force: true });
  }

  /** Drop a quarantine: its push was refused. */
  async discard(path: string, id: string): Promise<void> {
    await rm(this.#quarantineDir(path, id), { recursive: true, force: true });
  }

  /** Drop quarantines older than `maxAgeMs`: uploads no push ever named (a client that died in between). */
  async pruneQuarantines(path: string, maxAgeMs: number, now = Date.now()): Promise<void> {
    const root = join(path, QUARANTINE);
    for (const id of await readdir(root).catch(() => [] as string[])) {
      const dir = join(root, id);
      const info = await stat(dir).catch(() => undefined);
      if (info && now - info.mtimeMs > maxAgeMs) await rm(dir, { recursive: true, force: true });
    }
  }

  #quarantineDir(path: string, id: string): string {
    if (!QUARANTINE_ID.test(id)) throw new GitTransferError("input/invalid", "bad quarantine id");
    return join(path, QUARANTINE, id);
  }
}
