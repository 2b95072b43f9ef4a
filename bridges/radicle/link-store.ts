/**
 * What the Radicle bridge remembers, durably: which Weft task is which
 * issue, the fields as last synced on both sides (so a change is told from
 * an echo of what the bridge itself wrote), and which task comment is
 * which issue comment, by id on both sides. Saved with write-to-temp,
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

interface StateFile {
  version: 1;
  links: Link[];
}

const MAX_STATE_BYTES = 64 * 1024 * 1024;

export class LinkStore {
  readonly path: string;
  readonly #byTask = new Map<string, Link>();
  readonly #byIssue = new Map<string, Link>();

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
      if (parsed?.version !== 1 || !Array.isArray(parsed.links)) {
        throw new RadicleMalformed(path, "is not version 1 of the bridge's state");
      }
      for (const l of parsed.links) store.#index(l);
    }
    return store;
  }

  #index(link: Link): void {
    this.#byTask.set(link.task, link);
    this.#byIssue.set(link.issue, link);
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
      await file.writeFile(JSON.stringify({ version: 1, links: this.links() } satisfies StateFile));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
  }
}
