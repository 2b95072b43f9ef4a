/**
 * Which spaces may read which artifacts held here: an empty marker file
 * `refs/<space>/<sha-256>` per pair, written durably when an artifact is
 * put in a space or recorded by one of its runs. The store is shared by
 * every space this node is in; these markers keep a member of one space
 * from reading another's artifacts by guessing digests.
 */
import { access, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInput } from "#protocol/schema";
import { createFileExclusive } from "../storage/atomic-file.ts";
import { checkSha256 } from "./local-store.ts";

export class SpaceRefs {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #spaceDir(space: string): string {
    const id = space.startsWith("did:key:") ? space.slice(8) : "";
    if (!/^z[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(id)) throw new InvalidInput("space", "must be a space's did:key");
    return join(this.#dir, id);
  }

  async add(space: string, sha256: string): Promise<void> {
    const dir = this.#spaceDir(space);
    if (await this.has(space, sha256)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await createFileExclusive(join(dir, checkSha256(sha256)), "", 0o600).catch((e) => {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    });
  }

  async has(space: string, sha256: string): Promise<boolean> {
    return await access(join(this.#spaceDir(space), checkSha256(sha256))).then(() => true, () => false);
  }

  /** The digests referenced in a space. */
  async list(space: string): Promise<string[]> {
    try {
      return (await readdir(this.#spaceDir(space))).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }
}
