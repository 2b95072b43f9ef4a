/**
 * The Radicle bridge: a Weft space's tasks ↔ the issues of a Radicle
 * repository on this machine (a bare repository in heartwood's storage
 * layout, e.g. `~/.radicle/storage/<rid>`), and, when it names one of the
 * space's repositories, that repository's patches ↔ the Radicle
 * repository's patches, both ways, as its own
 * principal on each side: on Weft its DID, on Radicle the same Ed25519 key
 * as a node id, signing its COB changes through its context (it never holds
 * the key). It syncs when the space's tasks change and when the
 * repository's refs move (it polls them), one pass at a time; what it
 * remembers is in a state file (link-store.ts).
 */
import { resolve } from "node:path";
import type { Bridge, BridgeContext, BridgeKind, BridgeSpace } from "#protocol/bridge";
import { defaultVerifier, publicKeyFromDid } from "#protocol/identity";
import { messageOf } from "#protocol";
import { InvalidInput } from "#protocol/schema";
import { Commands } from "#protocol/ucan";
import { REPO_NAME } from "#protocol/repo";
import { syncOnce } from "./issue-sync.ts";
import { syncPatches } from "./patch-sync.ts";
import { GitRepo } from "./git-plumbing.ts";
import { LinkStore } from "./link-store.ts";
import { RadicleMalformed } from "./errors.ts";
import { RadicleRepository } from "./repository.ts";

export interface RadicleConfig {
  /** The bare Radicle repository (its storage directory). */
  repository: string;
  /** The space to map; unset, the one space the bridge is granted into. */
  space?: string;
  /** The space's repository whose patches it maps; unset, patches are not mapped. */
  repo?: string;
  /** The bridge's alias on Radicle: its commits' author name. */
  alias: string;
  /** How often it looks at the repository's refs, in milliseconds. */
  pollMs: number;
  /** Where it keeps its links (default: inside the repository's directory). */
  state: string;
}

const ISSUE_COMMANDS = [
  Commands.taskCreate,
  Commands.taskEdit,
  Commands.taskLabel,
  Commands.taskComment,
  Commands.taskClose,
  Commands.taskCancel,
];
/** Propose covers revising, close covers reopening; a push carries a Radicle revision's commits to the repository. */
const PATCH_COMMANDS = [Commands.patchPropose, Commands.patchReview, Commands.patchClose, Commands.repoPush];
const KEYS = ["repository", "space", "repo", "alias", "poll_ms", "state"];

class RadicleBridge implements Bridge {
  readonly #config: RadicleConfig;
  #context?: BridgeContext;
  #repo?: RadicleRepository;
  #links?: LinkStore;
  #unsubscribe?: () => void;
  #timer?: ReturnType<typeof setInterval>;
  #closed = false;
  #running?: Promise<void>;
  #dirty = false;
  #refs = "";
  readonly #warned = new Set<string>();

  constructor(config: RadicleConfig) {
    this.#config = config;
  }

  async start(context: BridgeContext): Promise<void> {
    this.#context = context;
    const signer = { did: context.did, publicKey: publicKeyFromDid(context.did), sign: context.sign };
    this.#repo = RadicleRepository.open(this.#config.repository, {
      signer,
      verifier: await defaultVerifier(),
      alias: this.#config.alias,
    });
    const rid = await this.#repo.rid().catch((e: Error) => {
      throw new RadicleMalformed(
        `${this.#config.repository}`,
        `is not a Radicle repository (${e.message}); point [bridges.${context.name}] repository at ~/.radicle/storage/<rid>`,
      );
    });
    this.#links = await LinkStore.open(this.#config.state);
    context.log.info("radicle bridge maps a repository", { bridge: context.name, rid, nid: this.#repo.nid });
    this.#unsubscribe = context.subscribe((e) => {
      if (e.type === "tasks" || e.type === "access" || e.type === "members") this.#schedule();
      if (e.type === "objects" && this.#config.repo) this.#schedule();
    });
    this.#timer = setInterval(() => this.#poll(), this.#config.pollMs);
    this.#schedule();
  }

  #warnOnce(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#context?.log.warn(message, { bridge: this.#context.name, ...fields });
  }

  /** The space it maps now, if it holds what it needs there. */
  #space(): BridgeSpace | undefined {
    const context = this.#context as BridgeContext;
    const spaces = this.#config.space
      ? [context.space(this.#config.space)].filter((s) => s !== undefined)
      : context.spaces();
    if (spaces.length !== 1) {
      this.#warnOnce(
        `spaces ${spaces.length}`,
        spaces.length ? "the radicle bridge is in several spaces: name one" : "the radicle bridge is in no space yet",
        {
          grant: `weft bridge grant ${context.name} --space <space>`,
          setting: spaces.length ? `[bridges.${context.name}] space = "<space id>"` : undefined,
        },
      );
      return undefined;
    }
    const [space] = spaces;
    return this.#holdsAll(space, ISSUE_COMMANDS) ? space : undefined;
  }

  /** Does the bridge hold every one of `commands` in `space`? If not, it says which it lacks, once. */
  #holdsAll(space: BridgeSpace, commands: readonly string[]): boolean {
    const missing = commands.filter((c) => !space.holds(c));
    if (missing.length) {
      const name = (this.#context as BridgeContext).name;
      this.#warnOnce(`missing ${space.id} ${missing.join()}`, "the radicle bridge lacks commands in its space", {
        space: space.id,
        missing,
        grant: `weft bridge grant ${name} --space ${space.id}`,
      });
    }
    return missing.length === 0;
  }

  async #poll(): Promise<void> {
    if (this.#closed || !this.#repo) return;
    const refs = await this.#repo.git.text(["for-each-ref", "--format=%(objectname) %(refname)", "refs/namespaces/"])
      .catch(() => this.#refs);
    if (refs !== this.#refs) {
      this.#refs = refs;
      this.#schedule();
    }
  }

  /** Run a pass now, or once more after the one running. */
  #schedule(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#dirty = false;
        const space = this.#space();
        if (!space) break;
        try {
          const context = this.#context as BridgeContext;
          const sync = {
            repo: this.#repo as RadicleRepository,
            space,
            links: this.#links as LinkStore,
            did: context.did,
            log: context.log,
            warnOnce: (k: string, m: string, f: Record<string, unknown>) => this.#warnOnce(k, m, f),
          };
          await syncOnce(sync);
          const weftRepo = this.#config.repo;
          if (weftRepo && this.#holdsAll(space, PATCH_COMMANDS)) {
            const copy = await context.repository?.(space.id, weftRepo);
            if (copy) await syncPatches({ ...sync, weftRepo, weftCopy: new GitRepo(copy) });
            else {
              this.#warnOnce(`copy ${weftRepo}`, "no local copy of the repository to map patches for yet", {
                repo: weftRepo,
                why: "this peer keeps one once the repository exists in the space; patches are mapped from then on",
              });
            }
          }
        } catch (e) {
          this.#context?.log.warn("a radicle sync pass failed; it is retried on the next change", {
            bridge: this.#context.name,
            error: messageOf(e),
          });
        }
      } while (this.#dirty && !this.#closed);
    })().finally(() => (this.#running = undefined));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    await this.#running;
    this.#repo?.git.close();
  }
}

export const radicleBridge: BridgeKind<RadicleConfig> = {
  name: "radicle",
  summary:
    "Weft tasks ↔ a Radicle repository's issues, and patches ↔ its patches, both ways, as its own DID and node id",
  commands: [...ISSUE_COMMANDS, ...PATCH_COMMANDS],
  configure(table) {
    for (const key of Object.keys(table)) {
      if (!KEYS.includes(key)) {
        throw new InvalidInput(key, `is not a setting of the radicle bridge (it has: ${KEYS.join(", ")})`);
      }
    }
    const { repository, space, repo, alias = "weft", poll_ms: pollMs = 1000, state } = table;
    if (typeof repository !== "string" || !repository) {
      throw new InvalidInput("repository", "must be the path of a Radicle repository (e.g. ~/.radicle/storage/<rid>)");
    }
    if (space !== undefined && (typeof space !== "string" || !space)) {
      throw new InvalidInput("space", "must be a space id");
    }
    if (repo !== undefined && (typeof repo !== "string" || !REPO_NAME.test(repo) || repo.includes(".."))) {
      throw new InvalidInput("repo", "must be the name of one of the space's repositories");
    }
    if (typeof alias !== "string" || !/^[^\s<>@]{1,32}$/.test(alias)) {
      throw new InvalidInput("alias", "must be 1 to 32 characters, no spaces, <, > or @");
    }
    if (typeof pollMs !== "number" || !Number.isInteger(pollMs) || pollMs < 100 || pollMs > 3_600_000) {
      throw new InvalidInput("poll_ms", "must be whole milliseconds from 100 to 3600000");
    }
    if (state !== undefined && (typeof state !== "string" || !state)) {
      throw new InvalidInput("state", "must be a file path");
    }
    const dir = resolve(repository);
    return {
      repository: dir,
      space,
      ...(repo ? { repo } : {}),
      alias,
      pollMs,
      state: state ? resolve(state) : `${dir}/weft-radicle-bridge.json`,
    };
  },
  create: (config) => new RadicleBridge(config),
};
