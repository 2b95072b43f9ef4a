/**
 * What the Radicle bridge remembers, durably: which Weft task is which
 * issue, the fields as last synced on both sides (so a change is told from
 * an echo of what the bridge itself wrote), and which task comment is
 * which issue comment, by id on both sides; likewise which Weft patch is
 * which Radicle patch, with their revisions and reviews paired by id. Saved with write-to-temp,
 * fsync and rename after every write the bridge makes, before it goes on.
 */
import { open, readFile, rename } from "node:fs/promises";
import { RadicleMalformed } from "./errors.ts";

export interface Synced {
  title: string;
  body: string;
  labels: string[];
  closed: boolean;
}

export interface Link {
  task: string;
  issue: string;
  /** Each side's fields as the bridge last saw them (after its own writes). */
  seen: { task: Synced; issue: Synced };
  /** [task comment id, issue comment id] */
  comments: [string, string][];
}

/** A patch's state as the bridge compares it: Radicle's draft counts as open, archived as closed. */
export type PatchStatus = "open" | "closed" | "merged";

export interface PatchLink {
  weft: string;
  radicle: string;
  /** [Weft revision id (its operation's CID), Radicle revision id] */
  revisions: [string, string][];
  /** [Weft review id, Radicle change id]: each review or comment carried either way, once. */
  reviews: [string, string][];
  /** Each side's status as the bridge last saw it (after its own writes). */
  seen: { weft: PatchStatus; radicle: PatchStatus };
}

interface StateFile {
  version: 1;
  links: Link[];
  /** Absent in files written before patches were mapped. */
  patches?: PatchLink[];
}

const MAX_STATE_BYTES = 64 * 1024 * 1024;

export class LinkStore {
  readonly path: string;
  readonly #byTask = new Map<string, Link>();
  readonly #byIssue = new Map<string, Link>();
  readonly #byWeftPatch = new Map<string, PatchLink>();
  readonly #byRadiclePatch = new Map<string, PatchLink>();

  private constructor(path: string) {
    this.path = path;
  }

  static async open(path: string): Promise<LinkStore> {
    const store = new LinkStore(path);
    let text: string | undefined;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (text !== undefined) {
      if (text.length > MAX_STATE_BYTES) throw new RadicleMalformed(path, "is larger than the bridge's state can be");
      let parsed: StateFile;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new RadicleMalformed(path, "is not the bridge's JSON state: move it away to start over");
      }
      if (
        parsed?.version !== 1 || !Array.isArray(parsed.links) ||
        (parsed.patches !== undefined && !Array.isArray(parsed.patches))
      ) {
        throw new RadicleMalformed(path, "is not version 1 of the bridge's state");
      }
      for (const l of parsed.links) store.#index(l);
      for (const l of parsed.patches ?? []) store.#indexPatch(l);
    }
    return store;
  }

  #index(link: Link): void {
    this.#byTask.set(link.task, link);
    this.#byIssue.set(link.issue, link);
  }

  #indexPatch(link: PatchLink): void {
    this.#byWeftPatch.set(link.weft, link);
    this.#byRadiclePatch.set(link.radicle, link);
  }

  byWeftPatch(id: string): PatchLink | undefined {
    return this.#byWeftPatch.get(id);
  }

  byRadiclePatch(id: string): PatchLink | undefined {
    return this.#byRadiclePatch.get(id);
  }

  patchLinks(): PatchLink[] {
    return [...this.#byWeftPatch.values()];
  }

  /** Record (or replace) a patch link and make it durable. */
  async putPatch(link: PatchLink): Promise<void> {
    this.#indexPatch(link);
    await this.save();
  }

  byTask(task: string): Link | undefined {
    return this.#byTask.get(task);
  }

  byIssue(issue: string): Link | undefined {
    return this.#byIssue.get(issue);
  }

  links(): Link[] {
    return [...this.#byTask.values()];
  }

  /** Record (or replace) a link and make it durable. */
  async put(link: Link): Promise<void> {
    this.#index(link);
    await this.save();
  }

  async save(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(
        JSON.stringify({ version: 1, links: this.links(), patches: this.patchLinks() } satisfies StateFile),
      );
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
  }
}
