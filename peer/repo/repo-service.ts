/**
 * A peer's repositories: the bare repositories of its spaces follow the
 * reduced, verified state of their refs (the `repo` family of each space's
 * operation log). When a valid push names commits this peer lacks, they are
 * fetched from a connected member (`/weft/git/1`, git-transport.ts) before
 * the ref moves; a ref never points at objects the peer does not hold, and
 * a ref the space's state does not have is removed. It also serves the
 * repositories to members, and reacts to each space's repository events,
 * with a sweep every few seconds for spaces joined since and peers that
 * connected after a fetch failed.
 */
import type { WeftNode } from "#protocol/node";
import type { Space } from "#protocol/space";
import { REPO_FAMILY, type RepoReducer, type Repository } from "#protocol/repo";
import { messageOf } from "#protocol";
import { BareRepos } from "./bare-repos.ts";
import { SyncQueue } from "./sync-queue.ts";
import { fetchGit, type GitServer, serveGit } from "./git-transport.ts";

const SWEEP_MS = 5_000;
/** How long uploaded objects wait for the push that names them. */
const QUARANTINE_MS = 60 * 60 * 1000;

export interface RepoServiceOptions {
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export class RepoService {
  readonly node: WeftNode;
  readonly repos: BareRepos;
  readonly #log: RepoServiceOptions["log"];
  readonly #watching = new Map<string, () => void>();
  /** One sync at a time per repository; those whose bare copy matches their state (the sweep skips them). */
  readonly #queue: SyncQueue;
  #server?: GitServer;
  #timer?: ReturnType<typeof setInterval>;

  constructor(node: WeftNode, dir: string, options: RepoServiceOptions = {}) {
    this.node = node;
    this.repos = new BareRepos(dir);
    this.#log = options.log;
    this.#queue = new SyncQueue((key, e) =>
      this.#log?.("repository sync failed", { repo: key, error: messageOf(e) })
    );
  }

  async start(): Promise<void> {
    if (this.node.libp2p) {
      this.#server = await serveGit(this.node, {
        // Only repositories the space's state has: a name alone opens nothing.
        resolve: (space, name) => this.repository(space, name) ? this.repos.existing(space, name) : undefined,
      });
    }
    this.#timer = setInterval(() => void this.sweep(), SWEEP_MS);
    await this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const unsubscribe of this.#watching.values()) unsubscribe();
    this.#watching.clear();
    await this.#server?.stop();
    await this.#queue.idle();
  }

  /** A repository as the space's state has it. */
  repository(space: string, name: string): Repository | undefined {
    return this.#state(space)?.repos.get(name);
  }

  #state(space: string): RepoReducer | undefined {
    const s = this.node.space(space);
    return s && this.stateOf(s);
  }

  /** The space's repositories as its operations reduce to. */
  stateOf(space: Space): RepoReducer {
    return space.log.state<RepoReducer>(REPO_FAMILY);
  }

  /** Bring every repository of every space up to its state; watch spaces not watched yet. */
  async sweep(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const space of this.node.spaces()) {
      if (!this.#watching.has(space.id)) {
        this.#watching.set(
          space.id,
          space.subscribe((e) => {
            if (e.type !== "objects") return;
            // Another family's operation (a patch merge) may move refs too (RepoReducer.updateRefs): check them all.
            const names = e.family === REPO_FAMILY ? e.objects : [...this.stateOf(space).repos.keys()];
            for (const name of names) void this.sync(space, name);
          }),
        );
      }
      for (const name of this.#state(space.id)?.repos.keys() ?? []) {
        if (!this.#queue.isCurrent(`${space.id}/${name}`)) work.push(this.sync(space, name));
      }
    }
    await Promise.all(work);
  }

  /** Make the bare repository's refs what the space's state says, fetching what is missing. */
  sync(space: Space, name: string): Promise<void> {
    return this.#queue.run(`${space.id}/${name}`, () => this.#sync(space, name));
  }

  /** Resolves true when the bare repository's refs are all as the state says. */
  async #sync(space: Space, name: string): Promise<boolean> {
    const repo = this.repository(space.id, name);
    if (!repo) return false;
    const path = await this.repos.ensure(space.id, name, repo.defaultBranch);
    await this.repos.pruneQuarantines(path, QUARANTINE_MS);
    const local = await this.repos.refs(path);
    const wanted = [...repo.refs].filter(([ref, r]) => local.get(ref) !== r.commit);
    const missing: string[] = [];
    for (const [, r] of wanted) if (!(await this.repos.complete(path, r.commit))) missing.push(r.commit);
    if (missing.length > 0) await this.#fetch(space.id, name, path, [...new Set(missing)]);
    let current = true;
    for (const [ref, r] of wanted) {
      if (await this.repos.complete(path, r.commit)) await this.repos.setRef(path, ref, r.commit, local.get(ref));
      else current = false;
    }
    for (const [ref, commit] of local) {
      if (!repo.refs.has(ref)) await this.repos.setRef(path, ref, undefined, commit);
    }
    return current;
  }

  /** Fetch commits from connected members until one has them all. */
  async #fetch(space: string, name: string, path: string, wants: string[]): Promise<void> {
    for (const peer of this.node.membersConnected(space)) {
      try {
        await fetchGit(this.node, { peer, space, repo: name, wants, into: path });
        return;
      } catch (e) {
        this.#log?.("fetching a repository's objects failed", { space, repo: name, peer, error: messageOf(e) });
      }
    }
  }
}
