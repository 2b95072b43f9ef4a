/**
 * The browser's own copy of a space's repositories: bare git repositories
 * in IndexedDB (lightning-fs), read with isomorphic-git, so files and diffs
 * stay readable offline. They are filled from a peer's
 * `POST /v1/spaces/:space/repos/:repo/pack` — the objects reachable from the
 * commits wanted and not from those already here — with a bearer this
 * browser signs for that one request under its own delegation in the
 * space; the peer serves members only. The pack is indexed here
 * (isomorphic-git checks every object's hash), then the refs follow; what
 * is wanted is what the space's signed state names: its refs' commits and
 * its patches' bases and heads. Nothing a peer says moves a ref here that
 * the space's own state does not name.
 */
import "./buffer-global.ts";
import FS from "@isomorphic-git/lightning-fs";
import git from "isomorphic-git";
import { WeftError } from "#protocol";
import { REPO_FAMILY, type RepoReducer } from "#protocol/repo";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { type ApiSigner, type PeerApi, readBounded, refusalOf, signedFetch } from "./api-request.ts";

/** The largest pack this browser takes in one fetch (it is held in memory to index it). */
export const MAX_PACK_BYTES = 256 * 1024 * 1024;
/** What the peer's pack route accepts at most. */
const MAX_WANTS = 256;
const MAX_HAVES = 1024;
/** Where commits the space names but no branch holds (patch revisions) are kept, so they stay reachable. */
const KEPT = "refs/weft/commits/";

export type GitFs = FS;

export class RepoMirror {
  readonly fs: FS;

  constructor(name = "weft-git") {
    this.fs = new FS(name);
  }

  /** The git directory of a repository of a space in this browser. */
  gitdir(space: string, repo: string): string {
    return `/${encodeURIComponent(space)}/${encodeURIComponent(repo)}.git`;
  }

  /** Refs held here (branches, and kept patch commits), with their commits; empty if nothing was fetched yet. */
  async refs(space: string, repo: string): Promise<Map<string, string>> {
    const gitdir = this.gitdir(space, repo);
    const out = new Map<string, string>();
    let refs: string[];
    try {
      refs = await git.listRefs({ fs: this.fs, gitdir, filepath: "refs" });
    } catch {
      return out;
    }
    for (const r of refs) {
      const ref = `refs/${r}`;
      out.set(ref, await git.resolveRef({ fs: this.fs, gitdir, ref }));
    }
    return out;
  }

  /** Whether the commit (and so, as packs are whole, its history) is here. */
  async has(space: string, repo: string, oid: string): Promise<boolean> {
    try {
      await git.readCommit({ fs: this.fs, gitdir: this.gitdir(space, repo), oid });
      return true;
    } catch {
      return false;
    }
  }

  /** The commits the space's signed state names for `repo`: its refs, and the bases and heads of its patches. */
  static wanted(
    space: Space,
    repo: string,
    patchCommits: Iterable<string>,
  ): { refs: Map<string, string>; extra: string[] } {
    const state = space.log.state<RepoReducer>(REPO_FAMILY).repos.get(repo);
    const refs = new Map([...(state?.refs ?? [])].map(([ref, r]) => [ref, r.commit]));
    const onRefs = new Set(refs.values());
    return { refs, extra: [...new Set(patchCommits)].filter((c) => !onRefs.has(c)) };
  }

  /**
   * Bring this browser's copy of `repo` up to what the space names, from
   * the peer at `peer.origin` (its API's http(s) origin; `peer.did` its DID,
   * when its sync session proved it). Resolves with how many objects
   * arrived (0: it was current).
   */
  async fetch(
    me: ApiSigner,
    space: Space,
    repo: string,
    peer: PeerApi,
    patchCommits: Iterable<string> = [],
    signal?: AbortSignal,
  ): Promise<number> {
    const { refs, extra } = RepoMirror.wanted(space, repo, patchCommits);
    const gitdir = this.gitdir(space.id, repo);
    const state = space.log.state<RepoReducer>(REPO_FAMILY).repos.get(repo);
    if (!state) throw new WeftError("NotFound", "not-found", `no repository ${repo} in this space`);
    await this.#init(gitdir, state.defaultBranch);
    const wants: string[] = [];
    for (const c of new Set([...refs.values(), ...extra])) if (!(await this.has(space.id, repo, c))) wants.push(c);
    let objects = 0;
    if (wants.length > 0) {
      const haves = [...new Set((await this.refs(space.id, repo)).values())].slice(0, MAX_HAVES);
      for (let i = 0; i < wants.length; i += MAX_WANTS) {
        const pack = await this.#pack(me, space, repo, peer, wants.slice(i, i + MAX_WANTS), haves, signal);
        objects += await this.#index(gitdir, pack);
      }
    }
    await this.#setRefs(space.id, repo, refs, extra);
    // A peer that answers with a well-formed pack of other objects moved nothing above; say so rather than "current".
    const lacking = [];
    for (const c of wants) if (!(await this.has(space.id, repo, c))) lacking.push(c.slice(0, 12));
    if (lacking.length > 0) {
      throw new WeftError(
        "InvalidInput",
        "git/bad-pack",
        `the peer at ${peer.origin} sent a pack without commits it was asked for (${
          lacking.join(", ")
        }): ask another peer`,
      );
    }
    return objects;
  }

  async #init(gitdir: string, defaultBranch: string): Promise<void> {
    try {
      await this.fs.promises.stat(`${gitdir}/HEAD`);
    } catch {
      await git.init({ fs: this.fs, dir: gitdir, gitdir, bare: true, defaultBranch });
    }
  }

  /** Ask the peer for a pack of `wants` minus what `haves` reach, signed for this one request. */
  async #pack(
    me: ApiSigner,
    space: Space,
    repo: string,
    peer: PeerApi,
    wants: string[],
    haves: string[],
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const path = `/v1/spaces/${encodeURIComponent(space.id)}/repos/${encodeURIComponent(repo)}/pack`;
    const body = new TextEncoder().encode(JSON.stringify({ wants, haves }));
    const r = await signedFetch({
      me,
      space,
      origin: peer.origin,
      ...(peer.did ? { audience: peer.did } : {}),
      command: Commands.spaceRead,
      method: "POST",
      path,
      body,
      ...(signal ? { signal } : {}),
    });
    if (!r.ok) {
      const why = await refusalOf(r);
      throw new WeftError(
        "Unavailable",
        "git/not-found",
        `the peer at ${peer.origin} did not send ${repo}'s objects (${r.status}${why ? `: ${why}` : ""})`,
      );
    }
    return await readBounded(
      r,
      MAX_PACK_BYTES,
      () =>
        new WeftError(
          "InvalidInput",
          "input/too-large",
          `${repo}'s pack is over ${MAX_PACK_BYTES / 2 ** 20} MB: clone it with git`,
        ),
    );
  }

  /** Store a pack under its own checksum and index it (every object hashed); resolves with its object count. */
  async #index(gitdir: string, pack: Uint8Array): Promise<number> {
    if (pack.length < 32 || new TextDecoder().decode(pack.subarray(0, 4)) !== "PACK") {
      throw new WeftError("InvalidInput", "git/bad-pack", "the peer sent something that is not a git pack");
    }
    const sum = [...pack.subarray(pack.length - 20)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const dir = `${gitdir}/objects/pack`;
    await mkdirs(this.fs, dir);
    const name = `objects/pack/pack-${sum}.pack`;
    await this.fs.promises.writeFile(`${gitdir}/${name}`, pack);
    try {
      return (await git.indexPack({ fs: this.fs, dir: gitdir, gitdir, filepath: name })).oids.length;
    } catch (e) {
      await this.fs.promises.unlink(`${gitdir}/${name}`);
      throw new WeftError("InvalidInput", "git/bad-pack", `the peer's pack does not index: ${(e as Error).message}`);
    }
  }

  /** Make the local refs what the space names (only to commits held here), and keep patch commits reachable. */
  async #setRefs(space: string, repo: string, refs: Map<string, string>, extra: string[]): Promise<void> {
    const gitdir = this.gitdir(space, repo);
    const local = await this.refs(space, repo);
    const keep = new Map(refs);
    for (const c of extra) keep.set(`${KEPT}${c}`, c);
    for (const [ref, oid] of keep) {
      if (local.get(ref) === oid || !(await this.has(space, repo, oid))) continue;
      await git.writeRef({ fs: this.fs, gitdir, ref, value: oid, force: true });
    }
    for (const ref of local.keys()) {
      if (!keep.has(ref) && !ref.startsWith(KEPT)) await git.deleteRef({ fs: this.fs, gitdir, ref });
    }
  }
}

async function mkdirs(fs: FS, path: string): Promise<void> {
  let at = "";
  for (const part of path.split("/").filter(Boolean)) {
    at += `/${part}`;
    try {
      await fs.promises.mkdir(at);
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    }
  }
}
